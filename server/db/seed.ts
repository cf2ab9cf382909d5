import { eq, sql } from "drizzle-orm";
import { BUILTIN_SCENARIOS } from "../scenarios/builtin.js";
import type { Database } from "./client.js";
import { apiModels, apiProviders, scenarios, systemConfig } from "./schema.js";

const SEED_KEY = "seed";
const SEED_VERSION = 2;

/** Fast and cheap: the default for role-play and for rewriting drafts. */
const haiku = (providerId: string, task: string): typeof apiModels.$inferInsert => ({
  providerId,
  modelKey: "anthropic/claude-3-haiku",
  displayName: "Claude 3 Haiku",
  task,
  modelFamily: "claude",
  isDefault: true,
  priority: 1,
  contextLength: 200_000,
  inputPricePerMtok: 0.25,
  outputPricePerMtok: 1.25,
});

/** Models for rewriting drafts (the `enhance` task), added by seed version 2. */
const enhanceModels = (openrouter: string) => [haiku(openrouter, "enhance")];

/**
 * Writes the default data once. A marker in system_config records that it ran, so an admin who
 * later edits or deletes a seeded row keeps their change across restarts.
 */
export async function seedDefaults(db: Database): Promise<{ seeded: boolean }> {
  return db.transaction(async (tx) => {
    // Instances starting together on one Postgres take turns; the loser then sees the marker.
    await tx.execute(sql`select pg_advisory_xact_lock(7253010302)`);
    const [marker] = await tx.select().from(systemConfig).where(eq(systemConfig.key, SEED_KEY));
    if (marker) {
      const version = (marker.value as { version?: number }).version ?? 1;
      if (version >= SEED_VERSION) return { seeded: false };
      // Seeded by an older Parley: add only what that seed lacked, once.
      const [openrouter] = await tx.select().from(apiProviders).where(eq(apiProviders.name, "openrouter"));
      if (openrouter) await tx.insert(apiModels).values(enhanceModels(openrouter.id)).onConflictDoNothing();
      await tx
        .update(systemConfig)
        .set({ value: { version: SEED_VERSION, at: new Date().toISOString() } })
        .where(eq(systemConfig.key, SEED_KEY));
      return { seeded: true };
    }

    await tx.insert(scenarios).values(BUILTIN_SCENARIOS).onConflictDoNothing({ target: scenarios.slug });

    const providers = await tx
      .insert(apiProviders)
      .values([
        {
          name: "openrouter",
          displayName: "OpenRouter",
          kind: "openrouter",
          baseUrl: "https://openrouter.ai/api/v1",
          authScheme: "bearer",
          authHeaderName: "Authorization",
          secretName: "OPENROUTER_API_KEY",
        },
        {
          name: "chat_worker",
          displayName: "Local chat worker",
          kind: "chat_worker",
          baseUrl: "http://127.0.0.1:8090/v1",
          authScheme: "none",
          authHeaderName: "Authorization",
          secretName: null,
        },
      ])
      .onConflictDoNothing({ target: apiProviders.name })
      .returning();
    const byName = new Map(providers.map((p) => [p.name, p.id]));
    const openrouter = byName.get("openrouter");
    const worker = byName.get("chat_worker");

    const models: (typeof apiModels.$inferInsert)[] = [];
    if (openrouter) {
      models.push(
        haiku(openrouter, "roleplay"),
        {
          providerId: openrouter,
          modelKey: "anthropic/claude-3.5-sonnet",
          displayName: "Claude 3.5 Sonnet",
          task: "roleplay",
          modelFamily: "claude",
          isDefault: false,
          priority: 2,
          contextLength: 200_000,
          inputPricePerMtok: 3,
          outputPricePerMtok: 15,
        },
        ...enhanceModels(openrouter),
      );
    }
    if (worker) {
      models.push({
        providerId: worker,
        modelKey: "local",
        displayName: "Local GGUF model",
        task: "roleplay",
        modelFamily: "llama",
        isDefault: false,
        priority: 0,
        inputPricePerMtok: 0,
        outputPricePerMtok: 0,
      });
    }
    if (models.length) await tx.insert(apiModels).values(models).onConflictDoNothing();

    await tx.insert(systemConfig).values({
      key: SEED_KEY,
      value: { version: SEED_VERSION, at: new Date().toISOString() },
    });
    return { seeded: true };
  });
}
