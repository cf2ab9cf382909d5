/**
 * The admin API's answers are typed by contracts/admin-views.ts; the checks below fail the build
 * if a table and what the dashboard is told of it drift apart.
 */
import type { ModelRecord, ProviderRecord, RequestView, ScenarioRecord } from "../../contracts/admin-views.js";
import type { ModelRow, ProviderRow, RequestLogRow, ScenarioRow } from "../db/schema.js";

export type * from "../../contracts/admin-views.js";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<ProviderRow, ProviderRecord>,
  Same<ModelRow, ModelRecord>,
  Same<ScenarioRow, ScenarioRecord>,
  Same<Omit<RequestLogRow, "clientId" | "attempts">, Omit<RequestView, "attempts" | "apiKeyName">>,
] = [true, true, true, true];
void checks;
