import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { pino } from "pino";
import { RegistrySync } from "../../server/runtime/registry-sync.js";
import { Registry } from "../../server/gateway/registry.js";
import { openDatabase, type Database } from "../../server/db/client.js";
import { seedDefaults } from "../../server/db/seed.js";
import { readRegistryVersion, registerLocalWorker } from "../../server/db/queries/registry.js";
import { apiModels, apiProviders, messages, scenarios, sessions } from "../../server/db/schema.js";
import { activePath, historyPath } from "../../server/db/queries/sessions.js";
import { writeLongThread } from "../support/long-thread.js";
import { randomUUID } from "node:crypto";
import { createTestDatabase } from "../support/db.js";
import { freePort } from "../support/postgres.js";
import { startParley, BUILT_DIR } from "../support/parley.js";

const tmpDirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), "parley-db-"));
  tmpDirs.push(d);
  return d;
};
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh PGlite with the seed applied, for the body of a test; closed after it, however it ends. */
async function onSeededPglite(run: (db: Database) => Promise<void>): Promise<void> {
  const handle = await openDatabase({ dataDir: tmp() });
  try {
    await seedDefaults(handle.db);
    await run(handle.db);
  } finally {
    await handle.close();
  }
}

describe("migrations and seed", () => {
  it("apply idempotently on PGlite, and the seed runs once without overwriting an admin's edits", async () => {
    const dataDir = tmp();
    const first = await openDatabase({ dataDir });
    expect(first.kind).toBe("pglite");
    expect(await seedDefaults(first.db)).toEqual({ seeded: true });
    await first.db.update(scenarios).set({ title: "Edited by an admin" }).where(eq(scenarios.slug, "refund-request"));
    await first.db.delete(scenarios).where(eq(scenarios.slug, "job-interview"));
    await first.close();

    const second = await openDatabase({ dataDir });
    expect(await seedDefaults(second.db)).toEqual({ seeded: false });
    const rows = await second.db.select({ slug: scenarios.slug, title: scenarios.title }).from(scenarios);
    expect(rows.find((r) => r.slug === "refund-request")!.title).toBe("Edited by an admin");
    expect(rows.some((r) => r.slug === "job-interview")).toBe(false);
    await second.close();
  });

  it("upgrade a seed of version 3: the local worker rewrites drafts too, and a practice model an admin deleted stays deleted", () =>
    onSeededPglite(async (db) => {
      const enhance = async () =>
        (await db.select({ key: apiModels.modelKey, priority: apiModels.priority }).from(apiModels).where(eq(apiModels.task, "enhance"))).sort((a, b) => a.priority - b.priority);
      // Fresh: the local worker first (while it is healthy), OpenRouter behind it.
      expect(await enhance()).toEqual([{ key: "local", priority: 0 }, { key: "anthropic/claude-3-haiku", priority: 1 }]);

      // As version 3 left it, with an admin's deletion of the hint model on OpenRouter since.
      await db.delete(apiModels).where(and(eq(apiModels.task, "enhance"), eq(apiModels.modelKey, "local")));
      await db.delete(apiModels).where(and(eq(apiModels.task, "coach"), eq(apiModels.modelKey, "anthropic/claude-3-haiku")));
      await db.execute(sql`update system_config set value = '{"version": 3}'::jsonb where key = 'seed'`);
      expect(await seedDefaults(db)).toEqual({ seeded: true });
      expect(await enhance()).toEqual([{ key: "local", priority: 0 }, { key: "anthropic/claude-3-haiku", priority: 1 }]);
      const coach = await db.select({ key: apiModels.modelKey }).from(apiModels).where(eq(apiModels.task, "coach"));
      expect(coach.map((m) => m.key)).toEqual(["local"]);
      expect(await seedDefaults(db)).toEqual({ seeded: false });
    }));

  it("register the local worker on the rows there are: named after its model, an admin's deletion kept; all of them on a worker with none", () =>
    onSeededPglite(async (db) => {
      const local = async () =>
        (await db.select({ task: apiModels.task, name: apiModels.displayName, context: apiModels.contextLength }).from(apiModels).where(eq(apiModels.modelKey, "local"))).sort((a, b) => a.task.localeCompare(b.task));
      const worker = { baseUrl: "http://127.0.0.1:8090/v1", model: "tiny", contextSize: 2048 };
      // An admin deleted the local model from Enhance; the worker's next start does not bring it back.
      await db.delete(apiModels).where(and(eq(apiModels.task, "enhance"), eq(apiModels.modelKey, "local")));
      await registerLocalWorker(db, worker);
      const row = (task: string) => ({ task, name: "tiny (local)", context: 2048 });
      expect(await local()).toEqual([row("coach"), row("evaluate"), row("roleplay")]);
      // A worker with no rows at all gets one for every task.
      await db.delete(apiModels).where(eq(apiModels.modelKey, "local"));
      await registerLocalWorker(db, worker);
      expect(await local()).toEqual([row("coach"), row("enhance"), row("evaluate"), row("roleplay")]);
    }));

  it("apply on Postgres too, concurrently from two instances, and seed the providers and models", async () => {
    const pg = await createTestDatabase(inject("postgresUrl"));
    try {
      const [a, b] = await Promise.all([openDatabase({ databaseUrl: pg.url, dataDir: tmp() }), openDatabase({ databaseUrl: pg.url, dataDir: tmp() })]);
      const seeds = await Promise.all([seedDefaults(a.db), seedDefaults(b.db)]);
      expect(seeds.filter((s) => s.seeded)).toHaveLength(1);
      expect(a.kind).toBe("postgres");

      const providers = await a.db.select().from(apiProviders);
      expect(providers.find((p) => p.name === "openrouter")).toMatchObject({
        kind: "openrouter",
        authScheme: "bearer",
        authHeaderName: "Authorization",
        secretName: "OPENROUTER_API_KEY",
        isActive: true,
      });
      expect(providers.find((p) => p.name === "chat_worker")).toMatchObject({ kind: "chat_worker" });
      const models = await a.db.select().from(apiModels).where(eq(apiModels.task, "roleplay"));
      expect(models.find((m) => m.modelKey === "anthropic/claude-3-haiku")).toMatchObject({ isDefault: true, priority: 1 });
      expect(models.find((m) => m.modelKey === "anthropic/claude-3.5-sonnet")).toMatchObject({ isDefault: false, priority: 2 });

      // No secret value is stored anywhere in the provider rows.
      const dump = JSON.stringify(await a.db.execute(sql`select * from api_providers`));
      expect(dump).not.toMatch(/sk-/);
      const journal = (await a.db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`)) as unknown as { count: number }[];
      expect(journal[0]!.count).toBeGreaterThanOrEqual(1);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await pg.drop();
    }
  });
});

describe("registry reload", () => {
  it.each(["pglite", "postgres"] as const)(
    "follows every change to routing rows on %s (trigger, NOTIFY, LISTEN), with task profiles as data",
    async (kind) => {
      const pg = kind === "postgres" ? await createTestDatabase(inject("postgresUrl")) : undefined;
      const handle = await openDatabase({ databaseUrl: pg?.url, dataDir: tmp() });
      // A poll far in the future: only LISTEN can deliver the change within the wait.
      const registry = new Registry({ openrouterBaseUrl: "http://127.0.0.1:9/v1", chatWorkerUrl: undefined }, () => "key");
      const sync = new RegistrySync(registry, 600_000, pino({ level: "silent" }), "test-instance");
      try {
        await seedDefaults(handle.db);
        await sync.start(handle);
        const v0 = registry.version;
        expect(v0).toBeGreaterThan(0);
        expect(registry.candidates("roleplay").map((c) => c.model.modelKey)).toContain("anthropic/claude-3-haiku");
        const [haiku] = registry.candidates("enhance");
        expect(registry.paramsFor(haiku!, "enhance")).toEqual({ temperature: 0.5, max_tokens: 200, top_p: 0.9 });

        await handle.db.update(apiModels).set({ isActive: false }).where(eq(apiModels.modelKey, "anthropic/claude-3-haiku"));
        await vi.waitFor(() => expect(registry.version).toBeGreaterThan(v0), { timeout: 5000, interval: 10 });
        expect(registry.activeModels().map((c) => c.model.modelKey)).not.toContain("anthropic/claude-3-haiku");

        const v1 = registry.version;
        await handle.db.execute(sql`update task_profiles set temperature = 0.3 where task = 'enhance'`);
        await vi.waitFor(() => expect(registry.version).toBeGreaterThan(v1), { timeout: 5000, interval: 10 });
        const [sonnetOrOther] = registry.candidates("enhance");
        expect(registry.paramsFor(sonnetOrOther!, "enhance").temperature).toBe(0.3);
      } finally {
        await sync.stop();
        await handle.close();
        await pg?.drop();
      }
    },
  );

  it.each(["pglite", "postgres"] as const)(
    "moves the routing version on %s only when a statement changes routing rows: a restart's seed leaves it",
    async (kind) => {
      const pg = kind === "postgres" ? await createTestDatabase(inject("postgresUrl")) : undefined;
      const dataDir = tmp();
      let handle = await openDatabase({ databaseUrl: pg?.url, dataDir });
      const version = () => readRegistryVersion(handle.db);
      try {
        await seedDefaults(handle.db);
        const seeded = await version();
        // A restart: the migrations again, then the seed, whose inserts meet their rows and do nothing.
        await handle.close();
        handle = await openDatabase({ databaseUrl: pg?.url, dataDir });
        expect(await seedDefaults(handle.db)).toEqual({ seeded: false });
        expect(await version()).toBe(seeded);
        // Statements that find no rows, on each table with routing data.
        await handle.db.update(apiModels).set({ isActive: false }).where(eq(apiModels.modelKey, "no/such-model"));
        await handle.db.delete(apiProviders).where(eq(apiProviders.name, "no-such-provider"));
        await handle.db.execute(sql`update task_profiles set temperature = 0.1 where task = 'no-such-task'`);
        await handle.db.execute(sql`delete from api_keys where name = 'no-such-key'`);
        expect(await version()).toBe(seeded);

        // A change on any of them still moves it, once per statement.
        await handle.db.update(apiModels).set({ isActive: false }).where(eq(apiModels.modelKey, "anthropic/claude-3-haiku"));
        expect(await version()).toBe(seeded + 1);
        const [added] = await handle.db
          .insert(apiProviders)
          .values({ name: "added", displayName: "Added", kind: "openai_compatible", baseUrl: "http://127.0.0.1:9/v1", authScheme: "none" })
          .returning({ id: apiProviders.id });
        expect(await version()).toBe(seeded + 2);
        await handle.db.delete(apiProviders).where(eq(apiProviders.id, added!.id));
        expect(await version()).toBe(seeded + 3);
        await handle.db.execute(sql`update task_profiles set temperature = 0.4 where task = 'enhance'`);
        expect(await version()).toBe(seeded + 4);
      } finally {
        await handle.close();
        await pg?.drop();
      }
    },
  );
});

describe("without a database", () => {
  it("serves the built-in scenarios, flagged, and refuses sessions with a clear 503", async () => {
    // A Postgres URL where nothing listens: start-up must not fail, only degrade.
    const port = await freePort();
    const parley = await startParley({ env: { DATABASE_URL: `postgres://parley:secret-pw@127.0.0.1:${port}/none` } });
    try {
      const c = parley.client();
      const health = await c.json<{ status: string; db: string }>("/api/health");
      expect(health.body).toMatchObject({ status: "degraded", db: "unavailable" });
      const list = await c.json<{ source: string; scenarios: { source: string; slug: string }[] }>("/api/scenarios");
      expect(list.status).toBe(200);
      expect(list.body.source).toBe("builtin");
      expect(list.body.scenarios.length).toBeGreaterThanOrEqual(8);
      expect(list.body.scenarios.every((s) => s.source === "builtin")).toBe(true);
      const one = await c.fetch("/api/scenarios/rain-on-the-boulevard");
      const text = await one.text();
      expect(text).toContain('"source":"builtin"');
      expect(text).not.toContain("Never reveal");
      const session = await c.json<{ error: { code: string } }>("/api/sessions", {
        method: "POST",
        body: JSON.stringify({ scenario: "refund-request" }),
      });
      expect(session).toMatchObject({ status: 503, body: { error: { code: "db_unavailable" } } });
      expect(parley.logs.join("\n")).not.toContain("secret-pw");
    } finally {
      await parley.stop();
    }
  });
});

describe("start-up", () => {
  it("stops with a message naming the variable when configuration is wrong", async () => {
    const child = spawn(process.execPath, [path.join(BUILT_DIR, "server", "main.js")], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      env: { PATH: process.env.PATH, PORT: "not-a-port", PARLEY_DATA_DIR: tmp() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(stderr).toContain("PORT");
  });
});

describe.each(["pglite", "postgres"] as const)("a prompt's history on %s", (kind) => {
  it("is the active path's messages, read in steps and bounded by characters like the full walk", async () => {
    const pg = kind === "postgres" ? await createTestDatabase(inject("postgresUrl")) : undefined;
    const handle = await openDatabase({ databaseUrl: pg?.url, dataDir: tmp() });
    try {
      await seedDefaults(handle.db);
      // Longer than one step of the walk, with a branch: the old reply below the leaf's parent is not on the path.
      const sessionId = await writeLongThread(handle.db, "h".repeat(32), 2_300);
      const [session] = await handle.db.select({ leafId: sessions.leafId }).from(sessions).where(eq(sessions.id, sessionId));
      const leaf = session!.leafId!;
      const [leafRow] = await handle.db.select().from(messages).where(eq(messages.id, leaf));
      await handle.db.insert(messages).values({ sessionId, parentId: leafRow!.parentId, role: leafRow!.role, content: "a swiped-away version" });
      await handle.db.update(messages).set({ tokenCounts: { o200k: 41 } }).where(eq(messages.id, leaf));
      const pick = (rows: { id: string; parentId: string | null; role: string; content: string; tokenCounts: Record<string, number> }[]) =>
        rows.map((r) => ({ id: r.id, parentId: r.parentId, role: r.role, content: r.content, tokenCounts: r.tokenCounts }));

      for (const maxChars of [1, 50_000, 10_000_000]) {
        const full = await activePath(handle.db, sessionId, leaf, { maxChars });
        const history = await historyPath(handle.db, sessionId, leaf, maxChars);
        expect(pick(history)).toEqual(pick(full));
      }
      const whole = await historyPath(handle.db, sessionId, leaf, 10_000_000);
      expect(whole).toHaveLength(2_300);
      expect(whole[0]!.parentId).toBeNull();
      expect(whole.at(-1)).toMatchObject({ id: leaf, tokenCounts: { o200k: 41 } });
      expect(whole.some((m) => m.content === "a swiped-away version")).toBe(false);
      // Another session's message is not a start.
      expect(await historyPath(handle.db, randomUUID(), leaf, 1_000)).toEqual([]);
    } finally {
      await handle.close();
      await pg?.drop();
    }
  });
});
