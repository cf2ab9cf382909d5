import { and, eq } from "drizzle-orm";
import type { Database } from "../client.js";
import { apiKeys, apiModels, apiProviders, systemConfig, taskProfiles } from "../schema.js";

/** Every provider, model and task profile, for the gateway's in-memory registry, and the API keys /v1 checks in memory. */
export async function loadRegistryRows(db: Database) {
  const [providers, models, profiles, keys] = await Promise.all([
    db.select().from(apiProviders),
    db.select().from(apiModels),
    db.select().from(taskProfiles),
    db.select().from(apiKeys),
  ]);
  return { providers, models, profiles, keys };
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

/** The tasks Parley's own worker serves. */
const LOCAL_WORKER_TASKS = ["roleplay", "enhance", "coach", "evaluate"];

/**
 * Makes Parley's own worker a routing option: the seeded `chat_worker` provider at the worker's
 * address, with model rows named after the GGUF file for the tasks it serves: every one — role-play,
 * enhancing drafts, and the practice tasks (its grammar holds a debrief to its JSON schema) — so a
 * machine with only a local model lacks no feature. Rows an admin switched off stay off, and
 * rows an admin deleted stay deleted.
 */
export async function registerLocalWorker(db: Database, w: { baseUrl: string; model: string; contextSize: number }): Promise<void> {
  await db.transaction(async (tx) => {
    const [provider] = await tx
      .insert(apiProviders)
      .values({ name: "chat_worker", displayName: "Local chat worker", kind: "chat_worker", baseUrl: w.baseUrl, authScheme: "none", secretName: null })
      .onConflictDoUpdate({ target: apiProviders.name, set: { baseUrl: w.baseUrl, updatedAt: new Date() } })
      .returning({ id: apiProviders.id });
    const displayName = `${w.model} (local)`;
    // The rows there are get the model's name and window. Rows are made only when the worker has
    // none at all (its first start on a database the seed did not give any): one an admin deleted
    // stays deleted.
    const updated = await tx
      .update(apiModels)
      .set({ displayName, contextLength: w.contextSize, updatedAt: new Date() })
      .where(and(eq(apiModels.providerId, provider!.id), eq(apiModels.modelKey, "local")))
      .returning({ id: apiModels.id });
    if (updated.length > 0) return;
    await tx
      .insert(apiModels)
      .values(
        LOCAL_WORKER_TASKS.map((task) => ({
          providerId: provider!.id,
          modelKey: "local",
          displayName,
          task,
          priority: 0,
          contextLength: w.contextSize,
          inputPricePerMtok: 0,
          outputPricePerMtok: 0,
        })),
      )
      .onConflictDoNothing();
  });
}
