import { asc, count, eq, inArray, isNull } from "drizzle-orm";
import type { Database } from "../client.js";
import { apiModels, apiProviders, scenarios, sessions, taskProfiles, type ModelRow, type ProviderRow, type ScenarioRow } from "../schema.js";

/** A Postgres unique violation (23505), as PGlite and postgres.js report it, wrapped by drizzle or not. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 3; e = e.cause as typeof e, i++) {
    if (e.code === "23505") return true;
  }
  return false;
}

export const listTasks = async (db: Database) =>
  (await db.select({ task: taskProfiles.task }).from(taskProfiles).orderBy(asc(taskProfiles.task))).map((r) => r.task);

// Providers

export const listProviderRows = (db: Database) => db.select().from(apiProviders).orderBy(asc(apiProviders.name));

export async function getProviderRow(db: Database, id: string): Promise<ProviderRow | undefined> {
  const [row] = await db.select().from(apiProviders).where(eq(apiProviders.id, id));
  return row;
}

export async function insertProvider(db: Database, values: typeof apiProviders.$inferInsert): Promise<ProviderRow> {
  const [row] = await db.insert(apiProviders).values(values).returning();
  return row!;
}

export async function updateProvider(db: Database, id: string, values: Partial<typeof apiProviders.$inferInsert>): Promise<ProviderRow | undefined> {
  const [row] = await db.update(apiProviders).set({ ...values, updatedAt: new Date() }).where(eq(apiProviders.id, id)).returning();
  return row;
}

export async function countModelsOf(db: Database, providerId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(apiModels).where(eq(apiModels.providerId, providerId));
  return row?.n ?? 0;
}

export async function deleteProvider(db: Database, id: string): Promise<boolean> {
  return (await db.delete(apiProviders).where(eq(apiProviders.id, id)).returning({ id: apiProviders.id })).length > 0;
}

// Models

export const listModelRows = (db: Database) => db.select().from(apiModels).orderBy(asc(apiModels.task), asc(apiModels.priority));

export async function getModelRow(db: Database, id: string): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(apiModels).where(eq(apiModels.id, id));
  return row;
}

export async function insertModel(db: Database, values: typeof apiModels.$inferInsert): Promise<ModelRow> {
  const [row] = await db.insert(apiModels).values(values).returning();
  return row!;
}

export async function updateModel(db: Database, id: string, values: Partial<typeof apiModels.$inferInsert>): Promise<ModelRow | undefined> {
  const [row] = await db.update(apiModels).set({ ...values, updatedAt: new Date() }).where(eq(apiModels.id, id)).returning();
  return row;
}

export async function deleteModel(db: Database, id: string): Promise<boolean> {
  return (await db.delete(apiModels).where(eq(apiModels.id, id)).returning({ id: apiModels.id })).length > 0;
}

/**
 * Writes a task's order as priorities 10, 20, 30 … in one transaction (one registry reload), and
 * makes the first the task's default, so the flag and the order never disagree.
 */
export async function writeTaskOrder(db: Database, orderedIds: string[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [i, id] of orderedIds.entries()) {
      await tx.update(apiModels).set({ priority: (i + 1) * 10, isDefault: i === 0, updatedAt: new Date() }).where(eq(apiModels.id, id));
    }
  });
}

// Scenarios

/** The gallery's scenarios (a person's own characters are theirs, not the admin's to list). */
export const listTaskProfiles = (db: Database) => db.select().from(taskProfiles).orderBy(asc(taskProfiles.task));

export async function updateTaskProfile(db: Database, task: string, values: Partial<typeof taskProfiles.$inferInsert>) {
  const [row] = await db.update(taskProfiles).set({ ...values, updatedAt: new Date() }).where(eq(taskProfiles.task, task)).returning();
  return row;
}

export const listScenarioRows = (db: Database) =>
  db.select().from(scenarios).where(isNull(scenarios.ownerClientId)).orderBy(asc(scenarios.sortOrder), asc(scenarios.title));

export async function getScenarioRow(db: Database, id: string): Promise<ScenarioRow | undefined> {
  const [row] = await db.select().from(scenarios).where(eq(scenarios.id, id));
  return row;
}

export async function insertScenario(db: Database, values: typeof scenarios.$inferInsert): Promise<ScenarioRow> {
  const [row] = await db.insert(scenarios).values(values).returning();
  return row!;
}

export async function updateScenario(db: Database, id: string, values: Partial<typeof scenarios.$inferInsert>): Promise<ScenarioRow | undefined> {
  const [row] = await db.update(scenarios).set({ ...values, updatedAt: new Date() }).where(eq(scenarios.id, id)).returning();
  return row;
}

/** Sessions per scenario: a scenario people have talked in is not deleted by accident. */
export async function sessionCounts(db: Database, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: sessions.scenarioId, n: count() })
    .from(sessions)
    .where(inArray(sessions.scenarioId, ids))
    .groupBy(sessions.scenarioId);
  return new Map(rows.map((r) => [r.id, r.n]));
}

export async function deleteScenario(db: Database, id: string): Promise<boolean> {
  return (await db.delete(scenarios).where(eq(scenarios.id, id)).returning({ id: scenarios.id })).length > 0;
}
