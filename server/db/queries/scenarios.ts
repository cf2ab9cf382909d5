import { and, asc, desc, eq, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../client.js";
import { characterAssets, characterImages, scenarios, sessions } from "../schema.js";
import { PUBLIC_SCENARIO_FIELDS, type PublicScenario, type ScenarioDetail } from "../../views.js";

/** Only public columns are selected, so the system prompt is never even loaded for these. */
export const publicScenarioColumns = Object.fromEntries(PUBLIC_SCENARIO_FIELDS.map((f) => [f, scenarios[f]])) as {
  [K in (typeof PUBLIC_SCENARIO_FIELDS)[number]]: (typeof scenarios)[K];
};

/** The gallery: active scenarios that are no one's own (a person's characters are theirs alone). */
export function listPublicScenarios(db: Database): Promise<PublicScenario[]> {
  return db
    .select(publicScenarioColumns)
    .from(scenarios)
    .where(and(eq(scenarios.isActive, true), isNull(scenarios.ownerClientId)))
    .orderBy(asc(scenarios.sortOrder), asc(scenarios.title));
}

/** Who may see a scenario: the gallery's anyone, a person's own character only that person. */
const visibleTo = (clientId: string | undefined) =>
  clientId ? or(isNull(scenarios.ownerClientId), eq(scenarios.ownerClientId, clientId)) : isNull(scenarios.ownerClientId);

/**
 * A scenario taken out of the gallery (hidden by an admin, or a character its owner removed) stays
 * open to whoever has a conversation with it: those are theirs to read and go on with. Only new
 * conversations need it offered.
 */
const openTo = (clientId: string | undefined) =>
  clientId
    ? or(
        eq(scenarios.isActive, true),
        sql`exists (select 1 from ${sessions} where ${sessions.scenarioId} = ${scenarios.id} and ${sessions.clientId} = ${clientId} and ${sessions.deletedAt} is null)`,
      )
    : eq(scenarios.isActive, true);

export async function getPublicScenario(db: Database, slug: string, clientId?: string): Promise<ScenarioDetail | undefined> {
  const [row] = await db
    .select({
      ...publicScenarioColumns,
      // What the character may open with besides the opening message (a card's alternate greetings): shown in the chat anyway.
      alternateGreetings: sql<string[]>`coalesce(${scenarios.card}->'data'->'alternate_greetings', '[]'::jsonb)`,
      withdrawn: sql<boolean>`not ${scenarios.isActive}`,
    })
    .from(scenarios)
    .where(and(eq(scenarios.slug, slug), visibleTo(clientId), openTo(clientId)))
    .limit(1);
  return row;
}

/** What a new conversation starts from: the opening message and, from a card, its alternate greetings. */
export async function getScenarioToStart(db: Database, slug: string, clientId: string) {
  const [row] = await db
    .select({ id: scenarios.id, openingMessage: scenarios.openingMessage, card: scenarios.card })
    .from(scenarios)
    .where(and(eq(scenarios.slug, slug), eq(scenarios.isActive, true), visibleTo(clientId)))
    .limit(1);
  return row && { id: row.id, openingMessage: row.openingMessage, alternateGreetings: row.card?.data.alternate_greetings ?? [] };
}

/** Entries in the lorebooks a character draws on. */
const lorebookEntries = sql<number>`coalesce((
  select sum(jsonb_array_length(l.book->'entries'))
  from scenario_lorebooks sl join lorebooks l on l.id = sl.lorebook_id
  where sl.scenario_id = "scenarios"."id"), 0)`.mapWith(Number);

/** A person's own characters, newest first, with what the list shows of their cards. */
export function listOwnedCharacters(db: Database, clientId: string, slug?: string) {
  return db
    .select({ ...publicScenarioColumns, card: scenarios.card, lorebookEntries })
    .from(scenarios)
    .where(and(eq(scenarios.ownerClientId, clientId), eq(scenarios.isActive, true), slug === undefined ? undefined : eq(scenarios.slug, slug)))
    .orderBy(desc(scenarios.createdAt));
}

/**
 * A character whole, for its owner (a client's id, or null: the gallery's, for an admin), with its
 * picture: what its editor and its export need. The system prompt is in it: never for a browser
 * that does not own the character.
 */
export async function getCharacterRow(db: Database, slug: string, owner: string | null) {
  const [row] = await db
    .select({ scenario: scenarios, contentType: characterImages.contentType, bytes: characterImages.bytes, lorebookEntries })
    .from(scenarios)
    .leftJoin(characterImages, eq(characterImages.scenarioId, scenarios.id))
    .where(and(eq(scenarios.slug, slug), owner === null ? isNull(scenarios.ownerClientId) : eq(scenarios.ownerClientId, owner)))
    .limit(1);
  return (
    row && {
      ...row.scenario,
      lorebookEntries: row.lorebookEntries,
      image: row.bytes && row.contentType ? { contentType: row.contentType, bytes: row.bytes } : undefined,
    }
  );
}

export async function updateCharacter(db: Database, id: string, values: Partial<typeof scenarios.$inferInsert>) {
  await db.update(scenarios).set({ ...values, updatedAt: new Date() }).where(eq(scenarios.id, id));
}

/** The gallery's scenario made from the same card, if an admin imported it before. */
export async function findGalleryByCardHash(db: Database, cardHash: string) {
  const [row] = await db.select().from(scenarios).where(and(isNull(scenarios.ownerClientId), eq(scenarios.cardHash, cardHash))).limit(1);
  return row;
}

/** The character this person already imported from the same card, if any. */
export async function findOwnedByCardHash(db: Database, clientId: string, cardHash: string) {
  const [row] = await db
    .select({ ...publicScenarioColumns, isActive: scenarios.isActive })
    .from(scenarios)
    .where(and(eq(scenarios.ownerClientId, clientId), eq(scenarios.cardHash, cardHash)))
    .limit(1);
  return row;
}

/**
 * Takes a person's own character out of their list, or puts it back: its conversations stay theirs
 * either way (see openTo). False when no character of theirs by that slug is in the other state.
 */
export async function setOwnedCharacterListed(db: Database, clientId: string, slug: string, listed: boolean): Promise<boolean> {
  const rows = await db
    .update(scenarios)
    .set({ isActive: listed })
    .where(and(eq(scenarios.slug, slug), eq(scenarios.ownerClientId, clientId), eq(scenarios.isActive, !listed)))
    .returning({ id: scenarios.id });
  return rows.length > 0;
}

export async function insertOwnedCharacter(db: Database, values: typeof scenarios.$inferInsert & { ownerClientId: string }): Promise<PublicScenario> {
  const [row] = await db.insert(scenarios).values(values).returning(publicScenarioColumns);
  return row!;
}

export async function saveCharacterImage(db: Database, scenarioId: string, contentType: string, bytes: Uint8Array, thumb: Uint8Array | null): Promise<void> {
  await db
    .insert(characterImages)
    .values({ scenarioId, contentType, bytes, thumb })
    .onConflictDoUpdate({ target: characterImages.scenarioId, set: { contentType, bytes, thumb } });
}

/** A CHARX card's files, kept for its export. */
export async function saveCharacterAssets(db: Database, scenarioId: string, assets: Map<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of assets) await db.insert(characterAssets).values({ scenarioId, path, bytes }).onConflictDoNothing();
}

export async function characterAssetsOf(db: Database, scenarioId: string): Promise<Map<string, Uint8Array>> {
  const rows = await db.select({ path: characterAssets.path, bytes: characterAssets.bytes }).from(characterAssets).where(eq(characterAssets.scenarioId, scenarioId));
  return new Map(rows.map((r) => [r.path, r.bytes]));
}

export async function saveCharacterThumb(db: Database, scenarioId: string, thumb: Uint8Array): Promise<void> {
  await db.update(characterImages).set({ thumb }).where(eq(characterImages.scenarioId, scenarioId));
}

/**
 * A character's picture, for whoever may see the character: its avatar-sized copy, or (for one
 * stored before those were made) the original, to make one from.
 */
export async function getCharacterImage(db: Database, slug: string, clientId: string | undefined) {
  const [row] = await db
    .select({
      scenarioId: characterImages.scenarioId,
      contentType: characterImages.contentType,
      thumb: characterImages.thumb,
      // The original only when there is no copy: it can be megabytes.
      bytes: sql<Uint8Array | null>`case when ${characterImages.thumb} is null then ${characterImages.bytes} end`,
    })
    .from(characterImages)
    .innerJoin(scenarios, eq(scenarios.id, characterImages.scenarioId))
    .where(and(eq(scenarios.slug, slug), visibleTo(clientId), openTo(clientId)))
    .limit(1);
  return row;
}
