/**
 * Which columns of a row become what the API sends to browsers (contracts/api-views.ts): a field
 * that is not on a list never reaches a browser. The type checks below fail the build if the
 * table and the contract drift apart.
 */
import type { MessageView, PublicScenario } from "../contracts/api-views.js";
import type { MessageRow, ScenarioRow } from "./db/schema.js";

export type { MessagePageView, MessageView, PublicScenario, ScenarioDetail, ReplyEvent, ReplyStartEvent, ScenarioSource, SessionSummaryView, SessionView } from "../contracts/api-views.js";

export const PUBLIC_SCENARIO_FIELDS = [
  "id",
  "slug",
  "title",
  "characterName",
  "description",
  "category",
  "tags",
  "contentRating",
  "openingMessage",
  "avatarStyle",
  "avatarSeed",
  "objectives",
  "turnLimit",
  "difficulty",
] as const satisfies readonly (keyof ScenarioRow & keyof PublicScenario)[];

export const MESSAGE_VIEW_FIELDS = [
  "id",
  "parentId",
  "role",
  "content",
  "finishReason",
  "provider",
  "model",
  "error",
  "editedAt",
  "contextFromId",
  "createdAt",
] as const satisfies readonly (keyof MessageRow & keyof MessageView)[];

/** Both ways: the listed columns make the whole contract, and the contract asks for nothing more. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const scenarioFieldsMakeTheView: Same<Pick<ScenarioRow, (typeof PUBLIC_SCENARIO_FIELDS)[number]>, PublicScenario> = true;
const messageFieldsMakeTheView: Same<Pick<MessageRow, (typeof MESSAGE_VIEW_FIELDS)[number]>, Omit<MessageView, "siblings">> = true;
void scenarioFieldsMakeTheView;
void messageFieldsMakeTheView;

/** Copies only the listed fields: what is not on the list never reaches a browser. */
export function pickFields<T, K extends keyof T>(row: T, fields: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const f of fields) out[f] = row[f];
  return out;
}
