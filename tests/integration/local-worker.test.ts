import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { lastLogId, logRowAfter, registryReloaded, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import { createSession, readSse } from "../support/parley.js";
import { testModel } from "../support/worker.js";

/**
 * Parley running its own chat worker (a real child process on stories260K), with a scripted upstream
 * as OpenRouter to carry the conversation while the worker is down.
 */
const stories = testModel("stories260K.gguf");
const OPENROUTER_KEY = "sk-or-local-worker-1234";
const INTERVAL_MS = 2000;

type LocalWorkerStatus = { state: string; model: string | null; restarts: number } | null;
const localWorker = async (s: GatewayStack) =>
  ((await (await fetch(`${s.parley.url}/api/health`)).json()) as { localWorker: LocalWorkerStatus }).localWorker;

const cache = async (s: GatewayStack) => {
  const [row] = await s.db.sql<{ value: Record<string, { isHealthy: boolean; error?: string }> }[]>`
    select value from system_config where key = 'workerHealthCache'`;
  return row?.value.chatWorker;
};

/** The worker process Parley started (its only child running the worker bundle, worker/main.js). */
const workerPid = (s: GatewayStack) => Number(execFileSync("pgrep", ["-P", String(s.parley.pid), "-f", "worker/main.js"]).toString().trim());
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function chat(s: GatewayStack, content = "Hello there") {
  const c = s.parley.client();
  const id = await createSession(c);
  const after = await lastLogId(s.db.sql);
  const res = await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content }) });
  const events = await readSse(res);
  return {
    provider: res.headers.get("x-parley-provider"),
    model: res.headers.get("x-parley-model"),
    last: events.at(-1)!,
    text: events.filter((e) => e.event === "delta").map((e) => e.data.text).join(""),
    log: await logRowAfter(s.db.sql, after, "roleplay"),
  };
}

/** The worker is running its model and the gateway's cache says so. */
const ready = (s: GatewayStack, restarts: number) =>
  vi.waitFor(
    async () => {
      expect(await localWorker(s)).toMatchObject({ state: "ready", restarts });
      expect((await cache(s))?.isHealthy).toBe(true);
    },
    { timeout: 30_000, interval: 50 },
  );

// Skipped only outside CI when stories260K.gguf is missing: testModel() prints why, and under CI=true it throws.
describe.skipIf(!stories.available)("Parley with its own chat worker", () => {
  let s: GatewayStack;
  beforeAll(async () => {
    s = await startGatewayStack({
      OPENROUTER_API_KEY: OPENROUTER_KEY,
      CHAT_WORKER_MODEL: stories.path,
      CHAT_WORKER_PORT: "0",
      CHAT_WORKER_THREADS: "1",
      CHAT_WORKER_CONTEXT: "2048",
      WORKER_HEALTH_INTERVAL_MS: String(INTERVAL_MS),
    });
    s.upstream.setDefault({ kind: "stream", chunks: ["From ", "OpenRouter."], usage: { prompt_tokens: 20, completion_tokens: 2 } });
    await ready(s, 0);
  });
  afterAll(() => s?.stop());

  it("registers the worker as the chat_worker provider with models named after the file, for every task", async () => {
    const rows = await s.db.sql<{ base_url: string; display_name: string; task: string; context_length: number; is_active: boolean }[]>`
      select p.base_url, m.display_name, m.task, m.context_length, m.is_active
      from api_models m join api_providers p on p.id = m.provider_id where p.name = 'chat_worker' order by m.task`;
    const row = (task: string) => ({ base_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), display_name: "stories260K (local)", task, context_length: 2048, is_active: true });
    expect(rows).toEqual([row("coach"), row("enhance"), row("evaluate"), row("roleplay")]);
  });

  it("answers role-play from the worker, with real token counts", async () => {
    const before = s.upstream.requests.length;
    const r = await chat(s);
    expect(r.provider).toBe("chat_worker");
    expect(r.model).toBe("local");
    expect(r.last.event).toBe("done");
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.log).toMatchObject({ status: "ok", provider: "chat_worker", model: "local", tokens_estimated: false, cost: 0 });
    // The scenario's system prompt alone is many tokens in this model's 512-piece vocabulary.
    expect(r.log.prompt_tokens).toBeGreaterThan(50);
    expect(s.upstream.requests.length).toBe(before);
  });

  it("rewrites a draft with the worker too: Enhance works on a local model alone", async () => {
    const before = s.upstream.requests.length;
    const after = await lastLogId(s.db.sql);
    const res = await s.parley.client().json<{ text: string }>("/api/enhance", { method: "POST", body: JSON.stringify({ text: "i want refund now" }) });
    expect(res.status).toBe(200);
    expect(res.body.text.length).toBeGreaterThan(0);
    expect(await logRowAfter(s.db.sql, after, "enhance")).toMatchObject({ status: "ok", provider: "chat_worker", model: "local" });
    expect(s.upstream.requests.length).toBe(before);
  });

  it("sends a conversation too long for the worker's context on to OpenRouter", async () => {
    const r = await chat(s, "the dog ran to the park ".repeat(300));
    expect(r.provider).toBe("openrouter");
    expect(r.text).toBe("From OpenRouter.");
    // Parley knows the worker's window (2048 tokens, registered with it): a message that cannot fit
    // is not sent there at all, and goes to the next model at once.
    expect(r.log.attempts.map((a) => [a.provider, a.status])).toEqual([["openrouter", 200]]);
    // Not a sign of ill health: the worker keeps its place.
    expect((await cache(s))?.isHealthy).toBe(true);
  });

  it("fits a long conversation to each model by its own count: the worker's newest turns within 2,048 of its tokens, OpenRouter's all of it", async () => {
    // Short replies keep the test quick on one thread; the window left for the prompt is 2048 − 60 − the margin.
    await s.db.sql`update api_models set param_overrides = '{"roleplay": {"max_tokens": 60}}' where provider_id = (select id from api_providers where name = 'chat_worker')`;
    await registryReloaded(s.parley, s.db.sql);
    const c = s.parley.client();
    const id = await createSession(c);
    const TURNS = 8;
    for (let i = 0; i < TURNS; i++) {
      const events = await readSse(await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: `Turn ${i}: ${"the dog ran to the park and ".repeat(25)}` }) }));
      expect(events.at(-1)!.event).toBe("done");
    }
    // The log is written in batches: the turns' rows are all in before the last one is looked for.
    await vi.waitFor(
      async () => {
        const [row] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from request_log where session_id = ${id}`;
        expect(row!.n).toBe(TURNS);
      },
      { timeout: 10_000, interval: 50 },
    );
    const after = await lastLogId(s.db.sql);
    const before = s.upstream.requests.length;
    const last = await readSse(await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: "And then?" }) }));
    expect(last.at(-1)!.event).toBe("done");
    const log = await logRowAfter(s.db.sql, after, "roleplay");
    // The worker answered (no context_length_exceeded, no failover) from a prompt that fits its window by its tokenizer,
    // leaving room for the reply (max_tokens 400), yet holding much of the story.
    expect(log.attempts.map((a) => [a.provider, a.status])).toEqual([["chat_worker", 200]]);
    expect(log.prompt_tokens + 60).toBeLessThanOrEqual(2048);
    expect(log.prompt_tokens).toBeGreaterThan(1200);
    expect(s.upstream.requests.length).toBe(before);
    const thread = (await c.json<{ session: { messages: { content: string; contextFromId: string | null }[] } }>(`/api/sessions/${id}`)).body.session.messages;
    // Left out: the older turns; the memory line marks where the worker's prompt began.
    expect(thread.at(-1)!.contextFromId).not.toBeNull();
    expect(thread.at(-1)!.contextFromId).not.toBe((await c.json<{ session: { messages: { id: string }[] } }>(`/api/sessions/${id}`)).body.session.messages[0]!.id);

    // With the worker switched off, the large model (200,000 tokens) gets every turn.
    await s.db.sql`update api_models set is_active = false where provider_id = (select id from api_providers where name = 'chat_worker')`;
    await registryReloaded(s.parley, s.db.sql);
    const again = await readSse(await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: "Go on." }) }));
    expect(again.at(-1)!.event).toBe("done");
    const sent = s.upstream.requests.at(-1)!.body.messages;
    // system + opening + (TURNS + 1) × (message, reply) + the new message
    expect(sent).toHaveLength(1 + 1 + (TURNS + 1) * 2 + 1);
    expect(sent.at(-1)!.content).toBe("Go on.");
    await s.db.sql`update api_models set is_active = true, param_overrides = '{}' where provider_id = (select id from api_providers where name = 'chat_worker')`;
    await registryReloaded(s.parley, s.db.sql);
  }, 150_000); // nine replies from a one-thread CPU model over nearly full windows, beside another test file

  it("carries on through OpenRouter when the worker dies, and goes back to it once it is restarted", async () => {
    const pid = workerPid(s);
    process.kill(pid, "SIGKILL");

    // The very next message: no probe has run, yet the reply comes from OpenRouter.
    const during = await chat(s);
    expect(during.provider).toBe("openrouter");
    expect(during.text).toBe("From OpenRouter.");
    expect(during.log.attempts.at(-1)).toMatchObject({ provider: "openrouter", status: 200 });

    // The shared cache says so within one health interval.
    await vi.waitFor(async () => expect((await cache(s))?.isHealthy).toBe(false), { timeout: INTERVAL_MS, interval: 25 });

    // The supervisor restarts it; once its model is loaded, role-play goes back to it.
    await ready(s, 1);
    expect(workerPid(s)).not.toBe(pid);
    const after = await chat(s);
    expect(after.provider).toBe("chat_worker");
    expect(after.last.event).toBe("done");
  });

  it("stops the worker when Parley stops", async () => {
    const pid = workerPid(s);
    await s.parley.stop();
    expect(isAlive(pid)).toBe(false);
  });
});

describe("Parley with a worker model it cannot use", () => {
  let s: GatewayStack;
  beforeAll(async () => {
    s = await startGatewayStack({ OPENROUTER_API_KEY: OPENROUTER_KEY, CHAT_WORKER_MODEL: "/nonexistent/model.gguf", CHAT_WORKER_PORT: "0" });
    s.upstream.setDefault({ kind: "stream", chunks: ["From ", "OpenRouter."] });
  });
  afterAll(() => s?.stop());

  it("starts anyway, says why the worker failed once, does not restart it, and chats through OpenRouter", async () => {
    await vi.waitFor(async () => expect(await localWorker(s)).toMatchObject({ state: "failed", restarts: 0 }), { timeout: 20_000, interval: 50 });
    const reason = s.parley.logs.filter((l) => l.includes("cannot read model file /nonexistent/model.gguf: no such file"));
    expect(reason.length).toBeGreaterThan(0);
    const r = await chat(s);
    expect(r.provider).toBe("openrouter");
    expect(r.text).toBe("From OpenRouter.");
  });
});
