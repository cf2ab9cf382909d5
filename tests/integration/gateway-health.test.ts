import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HAIKU, SONNET, lastLogId, logRowAfter, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import { createSession, readSse } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * Routing by health: the local worker's cached health (probed in the background, and updated by
 * failed requests) and the per-model circuit breaker. A scripted upstream plays the worker, with
 * its `/health`; another plays OpenRouter.
 */
const OPENROUTER_KEY = "sk-or-health-5566778899";

type Setup = GatewayStack & { openrouter: ScriptedUpstream; worker: ScriptedUpstream };

async function setUp(env: Record<string, string>): Promise<Setup> {
  const worker = await ScriptedUpstream.start();
  worker.setDefault({ kind: "stream", chunks: ["From ", "the ", "worker."], usage: { prompt_tokens: 12, completion_tokens: 3 } });
  const stack = await startGatewayStack({ OPENROUTER_API_KEY: OPENROUTER_KEY, CHAT_WORKER_URL: worker.baseUrl, ...env });
  return { ...stack, openrouter: stack.upstream, worker };
}
async function tearDown(s: Setup | undefined) {
  await s?.stop();
  await s?.worker.close();
}

async function chat(s: Setup) {
  const c = s.parley.client();
  const id = await createSession(c);
  const after = await lastLogId(s.db.sql);
  const res = await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: "Hi" }) });
  const events = await readSse(res);
  const log = await logRowAfter(s.db.sql, after);
  return {
    provider: res.headers.get("x-parley-provider"),
    model: res.headers.get("x-parley-model"),
    attempts: Number(res.headers.get("x-parley-attempts")),
    last: events.at(-1)!,
    text: events.filter((e) => e.event === "delta").map((e) => e.data.text).join(""),
    log,
  };
}

type HealthCache = Record<string, { isHealthy: boolean; lastCheck: string; responseTime: number | null }>;
const healthCache = async (s: Setup) => {
  const [row] = await s.db.sql<{ value: HealthCache }[]>`select value from system_config where key = 'workerHealthCache'`;
  return row?.value;
};
/** Waits for the background probe to write this verdict to system_config. */
const cacheSays = (s: Setup, isHealthy: boolean) =>
  vi.waitFor(
    async () => {
      const cache = await healthCache(s);
      if (cache?.chatWorker?.isHealthy !== isHealthy) throw new Error(`cache: ${JSON.stringify(cache)}`);
      return cache;
    },
    { timeout: 10_000, interval: 50 },
  );

describe("the local worker, by its probed health", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ WORKER_HEALTH_INTERVAL_MS: "200" });
  });
  afterAll(() => tearDown(s));

  it("comes first while healthy, and its health is cached in system_config", async () => {
    const cache = await cacheSays(s, true);
    expect(cache.chatWorker).toMatchObject({ isHealthy: true, lastCheck: expect.any(String), responseTime: expect.any(Number) });
    expect(Date.parse(cache.chatWorker!.lastCheck)).not.toBeNaN();
    const r = await chat(s);
    expect(r).toMatchObject({ provider: "chat_worker", model: "local", attempts: 1, text: "From the worker." });
    expect(r.log).toMatchObject({ provider: "chat_worker", model: "local", status: "ok", prompt_tokens: 12, completion_tokens: 3, cost: 0 });
  });

  it("is skipped without a call once its health check fails; OpenRouter answers", async () => {
    s.worker.health = { status: 503, body: { isHealthy: false } };
    await cacheSays(s, false);
    const before = s.worker.requests.length;
    const r = await chat(s);
    expect(r).toMatchObject({ provider: "openrouter", model: HAIKU, attempts: 1 });
    expect(r.log.attempts).toEqual([expect.objectContaining({ provider: "openrouter", status: 200 })]);
    expect(s.worker.requests.length).toBe(before);
  });

  it("takes traffic again when it reports healthy", async () => {
    s.worker.health = { status: 200, body: { isHealthy: true } };
    await cacheSays(s, true);
    const r = await chat(s);
    expect(r).toMatchObject({ provider: "chat_worker", attempts: 1 });
  });
});

describe("the local worker, by what requests find", () => {
  let s: Setup;
  // Probes are far apart here: every change of route below comes from a request's own outcome.
  beforeAll(async () => {
    s = await setUp({ WORKER_HEALTH_INTERVAL_MS: "600000", BREAKER_FAILURE_THRESHOLD: "3", BREAKER_COOLDOWN_MS: "600000" });
    await cacheSays(s, true); // the probe at start-up
  });
  afterAll(() => tearDown(s));

  it("keeps the partial when the worker dies mid-reply, and the next request goes to OpenRouter at once", async () => {
    s.worker.enqueue({ kind: "stream", chunks: ["Half ", "a ", "reply"], cutAfter: 2 });
    const dying = await chat(s);
    expect(dying).toMatchObject({ provider: "chat_worker", text: "Half a " });
    expect(dying.last).toMatchObject({ event: "error", data: { partial: { content: "Half a ", finishReason: "error" } } });
    expect(dying.log).toMatchObject({ status: "error", provider: "chat_worker", tokens_estimated: true });

    const before = s.worker.requests.length;
    const next = await chat(s);
    expect(next).toMatchObject({ provider: "openrouter", attempts: 1 });
    expect(s.worker.requests.length).toBe(before);
    expect((await healthCache(s))?.chatWorker?.isHealthy).toBe(false);
  });

  it("opens a model's circuit after three consecutive failures: the next request skips it without a call", async () => {
    for (let i = 0; i < 3; i++) {
      s.openrouter.forModel(HAIKU, { kind: "status", status: 500 });
      const r = await chat(s);
      expect(r).toMatchObject({ model: SONNET, attempts: 2 });
    }
    s.openrouter.requests.length = 0;
    const skipped = await chat(s);
    expect(skipped).toMatchObject({ provider: "openrouter", model: SONNET, attempts: 1 });
    expect(s.openrouter.requests.map((r) => r.body.model)).toEqual([SONNET]);
    expect(skipped.log.attempts.map((a) => a.model)).toEqual([SONNET]);
  });

  it("says so when every model is cooling down, and keeps the user's message", async () => {
    for (let i = 0; i < 3; i++) {
      s.openrouter.forModel(SONNET, { kind: "status", status: 503 });
      await chat(s);
    }
    s.openrouter.requests.length = 0;
    const c = s.parley.client();
    const id = await createSession(c);
    const res = await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: "Anyone?" }) });
    const events = await readSse(res);
    expect(res.headers.get("x-parley-attempts")).toBe("0");
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "upstream_unavailable", message: expect.stringMatching(/cooling down/) } });
    expect(s.openrouter.requests).toHaveLength(0);
    const rows = await s.db.sql`select role, content from messages where session_id = ${id} and role = 'user'`;
    expect(rows).toEqual([{ role: "user", content: "Anyone?" }]);
  });
});
