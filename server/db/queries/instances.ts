import { and, eq, gt, lt, sql } from "drizzle-orm";
import type { Database } from "../client.js";
import { instances } from "../schema.js";

export type InstanceRow = typeof instances.$inferSelect;

/** This instance is alive and runs on `registryVersion`. */
export async function reportInstance(db: Database, id: string, registryVersion: number): Promise<void> {
  await db
    .insert(instances)
    .values({ id, registryVersion })
    .onConflictDoUpdate({ target: instances.id, set: { registryVersion, seenAt: sql`now()` } });
}

/** Live instances (seen within `aliveS`) still on a routing version older than `version`. */
export async function laggingInstances(db: Database, version: number, aliveS: number): Promise<string[]> {
  const rows = await db
    .select({ id: instances.id })
    .from(instances)
    .where(and(lt(instances.registryVersion, version), gt(instances.seenAt, sql`now() - make_interval(secs => ${aliveS})`)));
  return rows.map((r) => r.id);
}

export async function listInstances(db: Database): Promise<InstanceRow[]> {
  return db.select().from(instances).orderBy(instances.startedAt);
}

export async function removeInstance(db: Database, id: string): Promise<void> {
  await db.delete(instances).where(eq(instances.id, id));
}
