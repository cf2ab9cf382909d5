import { and, eq, sql } from "drizzle-orm";
import { BUILTIN_SCENARIOS } from "../scenarios/builtin.js";
import type { Database } from "./client.js";
import { apiModels, apiProviders, scenarios, systemConfig } from "./schema.js";

const SEED_KEY = "seed";
const SEED_VERSION = 4;

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
  acceptsImages: true,
  inputPricePerMtok: 0.25,
  outputPricePerMtok: 1.25,
});

/** Models for rewriting drafts (the `enhance` task), added by seed version 2. */
const enhanceModels = (openrouter: string) => [haiku(openrouter, "enhance")];

/** The local worker for a task: first while it is healthy (free and private), OpenRouter behind it. */
const local = (providerId: string, task: string): typeof apiModels.$inferInsert => ({
  providerId,
  modelKey: "local",
  displayName: "Local GGUF model",
  task,
  modelFamily: "llama",
  isDefault: false,
  priority: 0,
  inputPricePerMtok: 0,
  outputPricePerMtok: 0,
});

/** The local worker rewrites drafts too (seed version 4): on a machine with only a local model, Enhance works. */
const localEnhance = (worker: string) => local(worker, "enhance");

/** Models for practice's hints and debriefs (the `coach` and `evaluate` tasks), added by seed version 3. */
const practiceModels = (openrouter: string | undefined, worker: string | undefined) => [
  ...(openrouter ? [haiku(openrouter, "coach"), haiku(openrouter, "evaluate")] : []),
  ...(worker ? [local(worker, "coach"), local(worker, "evaluate")] : []),
];

/**
 * What seed version 3 brings to a database seeded before: practice models, and objectives for the
 * shipped practice scenarios that have none yet (one an admin gave objectives keeps them).
 */
async function seedPractice(tx: Database) {
  const providers = await tx.select().from(apiProviders);
  const id = (name: string) => providers.find((p) => p.name === name)?.id;
  const models = practiceModels(id("openrouter"), id("chat_worker"));
  if (models.length) await tx.insert(apiModels).values(models).onConflictDoNothing();
  for (const s of BUILTIN_SCENARIOS.filter((b) => b.objectives.length > 0)) {
    await tx
      .update(scenarios)
      .set({ objectives: s.objectives, rubrics: s.rubrics, turnLimit: s.turnLimit, difficulty: s.difficulty })
      .where(and(eq(scenarios.slug, s.slug), sql`cardinality(${scenarios.objectives}) = 0`));
  }
}

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
      if (version < 2) {
        const [openrouter] = await tx.select().from(apiProviders).where(eq(apiProviders.name, "openrouter"));
        if (openrouter) await tx.insert(apiModels).values(enhanceModels(openrouter.id)).onConflictDoNothing();
      }
      if (version < 3) await seedPractice(tx);
      if (version < 4) {
        const [worker] = await tx.select().from(apiProviders).where(eq(apiProviders.name, "chat_worker"));
        if (worker) await tx.insert(apiModels).values(localEnhance(worker.id)).onConflictDoNothing();
      }
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
          acceptsImages: true,
          inputPricePerMtok: 3,
          outputPricePerMtok: 15,
        },
        ...enhanceModels(openrouter),
      );
    }
    if (worker) models.push(local(worker, "roleplay"), localEnhance(worker));
    models.push(...practiceModels(openrouter, worker));
    if (models.length) await tx.insert(apiModels).values(models).onConflictDoNothing();

    await tx.insert(systemConfig).values({
      key: SEED_KEY,
      value: { version: SEED_VERSION, at: new Date().toISOString() },
    });
    return { seeded: true };
  });
}
