import { and, eq, gte, inArray, or, sql } from "drizzle-orm";
import type { Database } from "../client.js";
import { apiKeys, apiKeySpend } from "../schema.js";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export const listKeyRows = (db: Database) => db.select().from(apiKeys).orderBy(apiKeys.name);

export async function getKeyRow(db: Database, id: string) {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

export async function insertKey(db: Database, values: typeof apiKeys.$inferInsert) {
  const [row] = await db.insert(apiKeys).values(values).returning();
  return row!;
}

export async function updateKey(db: Database, id: string, values: Partial<typeof apiKeys.$inferInsert>) {
  const [row] = await db.update(apiKeys).set({ ...values, updatedAt: new Date() }).where(eq(apiKeys.id, id)).returning();
  return row;
}

/** What a key has spent since `periodStart`. */
export async function spentSince(db: Database, keyId: string, periodStart: Date): Promise<number> {
  const [row] = await db
    .select({ cost: apiKeySpend.costUsd })
    .from(apiKeySpend)
    .where(and(eq(apiKeySpend.keyId, keyId), eq(apiKeySpend.periodStart, periodStart)));
  return row?.cost ?? 0;
}

/** Adds a finished request's real cost and tokens to the key's period. */
export async function chargeKey(db: Database, keyId: string, periodStart: Date, cost: number, tokens: number): Promise<void> {
  await db
    .insert(apiKeySpend)
    .values({ keyId, periodStart, costUsd: cost, requests: 1, tokens, lastUsedAt: new Date() })
    .onConflictDoUpdate({
      target: [apiKeySpend.keyId, apiKeySpend.periodStart],
      set: {
        costUsd: sql`${apiKeySpend.costUsd} + ${cost}`,
        requests: sql`${apiKeySpend.requests} + 1`,
        tokens: sql`${apiKeySpend.tokens} + ${tokens}`,
        lastUsedAt: new Date(),
      },
    });
}

/** For the Keys tab: each key's spend in the given periods, and when it was last used (any period). */
export async function spendOf(db: Database, periods: { keyId: string; periodStart: Date }[]) {
  if (periods.length === 0) return { spent: new Map<string, number>(), lastUsed: new Map<string, Date>() };
  const ids = periods.map((p) => p.keyId);
  const [spent, used] = await Promise.all([
    db
      .select({ keyId: apiKeySpend.keyId, cost: apiKeySpend.costUsd })
      .from(apiKeySpend)
      .where(or(...periods.map((p) => and(eq(apiKeySpend.keyId, p.keyId), eq(apiKeySpend.periodStart, p.periodStart))))),
    db
      .select({ keyId: apiKeySpend.keyId, at: sql<Date>`max(${apiKeySpend.lastUsedAt})`.mapWith((v: string | Date) => new Date(v)) })
      .from(apiKeySpend)
      .where(and(inArray(apiKeySpend.keyId, ids), gte(apiKeySpend.periodStart, new Date(0))))
      .groupBy(apiKeySpend.keyId),
  ]);
  return { spent: new Map(spent.map((s) => [s.keyId, s.cost])), lastUsed: new Map(used.map((u) => [u.keyId, u.at])) };
}
