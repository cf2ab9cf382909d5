import { and, asc, desc, eq, isNull, isNotNull, sql } from "drizzle-orm";
import type { CardLorebook } from "../../../contracts/character-card.js";
import type { Database } from "../client.js";
import { lorebooks, scenarioLorebooks, scenarios } from "../schema.js";

/** Whose a row is: a client's own, or the gallery's (null: an admin's). */
export type Owner = string | null;

const ownedBy = (column: typeof lorebooks.ownerClientId | typeof scenarios.ownerClientId, owner: Owner) =>
  owner === null ? isNull(column) : eq(column, owner);

/** The owner's lorebooks, newest first, with the characters each is attached to. */
export function listLorebooks(db: Database, owner: Owner, id?: string) {
  return db
    .select({
      id: lorebooks.id,
      name: lorebooks.name,
      updatedAt: lorebooks.updatedAt,
      entries: sql<number>`coalesce(jsonb_array_length("lorebooks"."book"->'entries'), 0)`.mapWith(Number),
      // Written out qualified: drizzle leaves a one-table select's columns bare, which the subquery would read as its own.
      characters: sql<{ slug: string; title: string; embedded: boolean }[]>`coalesce((
        select jsonb_agg(jsonb_build_object('slug', s.slug, 'title', s.title, 'embedded', sl.embedded) order by s.title)
        from scenario_lorebooks sl join scenarios s on s.id = sl.scenario_id
        where sl.lorebook_id = "lorebooks"."id"), '[]'::jsonb)`,
    })
    .from(lorebooks)
    .where(and(ownedBy(lorebooks.ownerClientId, owner), id === undefined ? undefined : eq(lorebooks.id, id)))
    .orderBy(desc(lorebooks.updatedAt));
}

export async function getLorebook(db: Database, id: string, owner: Owner) {
  const [row] = await db.select().from(lorebooks).where(and(eq(lorebooks.id, id), ownedBy(lorebooks.ownerClientId, owner))).limit(1);
  return row;
}

export async function insertLorebook(db: Database, values: { ownerClientId: Owner; name: string; book: CardLorebook }) {
  const [row] = await db.insert(lorebooks).values(values).returning();
  return row!;
}

export async function updateLorebook(db: Database, id: string, owner: Owner, values: { name: string; book: CardLorebook }) {
  const [row] = await db
    .update(lorebooks)
    .set({ ...values, updatedAt: new Date() })
    .where(and(eq(lorebooks.id, id), ownedBy(lorebooks.ownerClientId, owner)))
    .returning();
  return row;
}

export async function deleteLorebook(db: Database, id: string, owner: Owner): Promise<boolean> {
  const rows = await db
    .delete(lorebooks)
    .where(and(eq(lorebooks.id, id), ownedBy(lorebooks.ownerClientId, owner)))
    .returning({ id: lorebooks.id });
  return rows.length > 0;
}

/** A character of the owner's that lorebooks can be attached to (one made from a card). */
export async function findCharacter(db: Database, slug: string, owner: Owner) {
  const [row] = await db
    .select({ id: scenarios.id, slug: scenarios.slug, card: scenarios.card })
    .from(scenarios)
    .where(and(eq(scenarios.slug, slug), ownedBy(scenarios.ownerClientId, owner), isNotNull(scenarios.card)))
    .limit(1);
  return row;
}

export async function attachLorebook(db: Database, scenarioId: string, lorebookId: string, embedded = false): Promise<void> {
  await db.insert(scenarioLorebooks).values({ scenarioId, lorebookId, embedded }).onConflictDoNothing();
}

export async function detachLorebook(db: Database, scenarioId: string, lorebookId: string): Promise<boolean> {
  const rows = await db
    .delete(scenarioLorebooks)
    .where(and(eq(scenarioLorebooks.scenarioId, scenarioId), eq(scenarioLorebooks.lorebookId, lorebookId)))
    .returning({ id: scenarioLorebooks.lorebookId });
  return rows.length > 0;
}

/** The lorebooks a character draws on, the card's own first. */
export function lorebooksOf(db: Database, scenarioId: string) {
  return db
    .select({ id: lorebooks.id, name: lorebooks.name, book: lorebooks.book, embedded: scenarioLorebooks.embedded })
    .from(scenarioLorebooks)
    .innerJoin(lorebooks, eq(lorebooks.id, scenarioLorebooks.lorebookId))
    .where(eq(scenarioLorebooks.scenarioId, scenarioId))
    .orderBy(desc(scenarioLorebooks.embedded), asc(scenarioLorebooks.createdAt));
}

/** For a statement over `scenarios` (the reply claim's): the scenario's books as one JSON array, the card's own first. */
export const lorebooksJson = sql<CardLorebook[]>`coalesce((
  select jsonb_agg(l.book order by sl.embedded desc, sl.created_at)
  from scenario_lorebooks sl join lorebooks l on l.id = sl.lorebook_id
  where sl.scenario_id = "scenarios"."id"), '[]'::jsonb)`;
