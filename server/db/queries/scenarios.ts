import { asc, eq, and } from "drizzle-orm";
import type { Database } from "../client.js";
import { scenarios } from "../schema.js";
import { PUBLIC_SCENARIO_FIELDS, type PublicScenario } from "../../views.js";

/** Only public columns are selected, so the system prompt is never even loaded for these. */
export const publicScenarioColumns = Object.fromEntries(PUBLIC_SCENARIO_FIELDS.map((f) => [f, scenarios[f]])) as {
  [K in (typeof PUBLIC_SCENARIO_FIELDS)[number]]: (typeof scenarios)[K];
};

export function listPublicScenarios(db: Database): Promise<PublicScenario[]> {
  return db
    .select(publicScenarioColumns)
    .from(scenarios)
    .where(eq(scenarios.isActive, true))
    .orderBy(asc(scenarios.sortOrder), asc(scenarios.title));
}

export async function getPublicScenario(db: Database, slug: string): Promise<PublicScenario | undefined> {
  const [row] = await db
    .select(publicScenarioColumns)
    .from(scenarios)
    .where(and(eq(scenarios.slug, slug), eq(scenarios.isActive, true)))
    .limit(1);
  return row;
}
