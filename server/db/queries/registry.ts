import { eq } from "drizzle-orm";
import type { Database } from "../client.js";
import { apiModels, apiProviders, systemConfig, taskProfiles } from "../schema.js";

/** Every provider, model and task profile, for the gateway's in-memory registry. */
export async function loadRegistryRows(db: Database) {
  const [providers, models, profiles] = await Promise.all([
    db.select().from(apiProviders),
    db.select().from(apiModels),
    db.select().from(taskProfiles),
  ]);
  return { providers, models, profiles };
}

/** Bumped by a trigger on every change to routing rows (migration 0001). */
export async function readRegistryVersion(db: Database): Promise<number> {
  const [row] = await db.select({ value: systemConfig.value }).from(systemConfig).where(eq(systemConfig.key, "registry_version"));
  return Number(row?.value ?? 0);
}

export async function writeSystemConfig(db: Database, key: string, value: unknown): Promise<void> {
  await db
    .insert(systemConfig)
    .values({ key, value })
    .onConflictDoUpdate({ target: systemConfig.key, set: { value, updatedAt: new Date() } });
}
