import { asc, eq, and } from "drizzle-orm";
import type { Database } from "../client.js";
import { scenarios, type ScenarioRow } from "../schema.js";

/** Everything a browser may see of a scenario. The system prompt is deliberately absent. */
export const publicScenarioColumns = {
  id: scenarios.id,
  slug: scenarios.slug,
  title: scenarios.title,
  characterName: scenarios.characterName,
  description: scenarios.description,
  category: scenarios.category,
  tags: scenarios.tags,
  contentRating: scenarios.contentRating,
  openingMessage: scenarios.openingMessage,
  avatarStyle: scenarios.avatarStyle,
  avatarSeed: scenarios.avatarSeed,
};

export type PublicScenarioRow = Pick<ScenarioRow, keyof typeof publicScenarioColumns>;

export function listPublicScenarios(db: Database): Promise<PublicScenarioRow[]> {
  return db
    .select(publicScenarioColumns)
    .from(scenarios)
    .where(eq(scenarios.isActive, true))
    .orderBy(asc(scenarios.sortOrder), asc(scenarios.title));
}

export async function getPublicScenario(db: Database, slug: string): Promise<PublicScenarioRow | undefined> {
  const [row] = await db
    .select(publicScenarioColumns)
    .from(scenarios)
    .where(and(eq(scenarios.slug, slug), eq(scenarios.isActive, true)))
    .limit(1);
  return row;
}

/** Server-only: includes the system prompt, for building the model prompt. */
export async function getScenarioForPrompt(db: Database, id: string) {
  const [row] = await db
    .select({ id: scenarios.id, systemPrompt: scenarios.systemPrompt, characterName: scenarios.characterName })
    .from(scenarios)
    .where(eq(scenarios.id, id))
    .limit(1);
  return row;
}
