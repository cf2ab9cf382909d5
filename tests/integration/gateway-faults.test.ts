import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HAIKU, SONNET, lastLogId, logRowAfter, startGatewayStack, type GatewayStack, readOpenAiStream, registryReloaded, type LogRow } from "../support/gateway.js";
import { createSession, readSse, type ParleyProcess } from "../support/parley.js";
import { freePort } from "../support/postgres.js";
import type { ScriptedUpstream } from "../support/upstream.js";

/**
 * The fault matrix: each fault a real provider produces, through each way in — the app's chat
 * (streamed, stored), `/v1` streamed and `/v1` not streamed. Every case asserts who served, the
 * attempts, the headers, what the client got or what was stored, and the request_log row.
 */
const OPENROUTER_KEY = "sk-or-faults-1a2b3c4d5e6f";
const API_KEY = "pk-faults-0123456789";
const FULL_TEXT = "*smiles warmly* Hello from the scripted upstream.";

let stack: GatewayStack;
let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let db: GatewayStack["db"];

beforeAll(async () => {
  stack = await startGatewayStack({
    OPENROUTER_API_KEY: OPENROUTER_KEY,
    PARLEY_API_KEYS: API_KEY,
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: "1000",
    UPSTREAM_IDLE_TIMEOUT_MS: "1000",
  });
  ({ upstream, parley, db } = stack);
  // A provider nobody listens for: its connections are refused.
  const deadPort = await freePort();
  const [dead] = await db.sql<{ id: string }[]>`
    insert into api_providers (name, display_name, kind, base_url, auth_scheme, secret_name)
    values ('dead', 'Dead provider', 'openai_compatible', ${`http://127.0.0.1:${deadPort}/v1`}, 'none', null) returning id`;
  await db.sql`insert into api_models (provider_id, model_key, display_name, task, priority, is_default)
    values (${dead!.id}, 'dead/model', 'Dead model', 'roleplay', 50, false)`;
  await registryReloaded(parley, db.sql);
});
afterEach(() => upstream.reset());
afterAll(() => stack?.stop());

type Outcome = {
  served: { provider: string; model: string };
  /** Each attempt's HTTP status (undefined: no answer at all). */
  attempts: (number | undefined)[];
  status: "ok" | "error";
  text: string;
  /** Usage as the upstream reported it; absent means the counts must be marked estimated. */
  usage?: { prompt: number; completion: number; cost: number };
};

type Case = { name: string; script: () => void; expect: Outcome };

const ok = (served = HAIKU, attempts: (number | undefined)[] = [200]): Outcome => ({
  served: { provider: served === "dead/model" ? "dead" : "openrouter", model: served },
  attempts,
  status: "ok",
  text: FULL_TEXT,
  usage: { prompt: 42, completion: 7, cost: 0.000123 },
});
const partial = (text: string): Outcome => ({ served: { provider: "openrouter", model: HAIKU }, attempts: [200], status: "error", text });
const status = (s: number, headers?: Record<string, string>) => ({ kind: "status" as const, status: s, headers });

const CASES: Case[] = [
  { name: "a plain reply", script: () => {}, expect: ok() },
  {
    name: "429 with Retry-After in seconds: waits, then the same model",
    script: () => upstream.forModel(HAIKU, status(429, { "Retry-After": "1" })),
    expect: ok(HAIKU, [429, 200]),
  },
  {
    name: "429 with Retry-After as an HTTP date: waits, then the same model",
    script: () => upstream.forModel(HAIKU, status(429, { "Retry-After": new Date(Date.now() + 2500).toUTCString() })),
    expect: ok(HAIKU, [429, 200]),
  },
  {
    name: "429 three times: waits three times, then the next model",
    script: () => upstream.forModel(HAIKU, ...Array.from({ length: 4 }, () => status(429, { "Retry-After": "0" }))),
    expect: ok(SONNET, [429, 429, 429, 429, 200]),
  },
  {
    name: "429 without Retry-After: the next model at once",
    script: () => upstream.forModel(HAIKU, status(429)),
    expect: ok(SONNET, [429, 200]),
  },
  {
    name: "429 asking for longer than RETRY_AFTER_MAX_S: the next model at once",
    script: () => upstream.forModel(HAIKU, status(429, { "Retry-After": "3600" })),
    expect: ok(SONNET, [429, 200]),
  },
  { name: "402 payment required: the next model", script: () => upstream.forModel(HAIKU, status(402)), expect: ok(SONNET, [402, 200]) },
  { name: "500: the next model", script: () => upstream.forModel(HAIKU, status(500)), expect: ok(SONNET, [500, 200]) },
  { name: "502: the next model", script: () => upstream.forModel(HAIKU, status(502)), expect: ok(SONNET, [502, 200]) },
  { name: "503: the next model", script: () => upstream.forModel(HAIKU, status(503)), expect: ok(SONNET, [503, 200]) },
  {
    name: "a hang before headers: the next model after the first-byte timeout",
    script: () => upstream.forModel(HAIKU, { kind: "hang" }),
    expect: ok(SONNET, [undefined, 200]),
  },
  {
    name: "headers then no chunk: the next model after the first-byte timeout",
    script: () => upstream.forModel(HAIKU, { kind: "headers-then-hang" }),
    expect: ok(SONNET, [undefined, 200]),
  },
  {
    name: "an error event before any content: the next model",
    script: () => upstream.forModel(HAIKU, { kind: "stream", chunks: ["x"], errorAfter: { chunks: 0, message: "Provider overloaded" } }),
    expect: ok(SONNET, [200, 200]),
  },
  {
    name: "`: OPENROUTER PROCESSING` keep-alives: ignored",
    script: () => upstream.forModel(HAIKU, { kind: "stream", chunks: FULL_TEXT.split(/(?<= )/), keepAlives: 3, usage: { prompt_tokens: 42, completion_tokens: 7, cost: 0.000123 } }),
    expect: ok(),
  },
  {
    name: "a malformed chunk: skipped, the rest kept",
    script: () =>
      upstream.forModel(HAIKU, { kind: "stream", chunks: FULL_TEXT.split(/(?<= )/), malformedAt: 2, usage: { prompt_tokens: 42, completion_tokens: 7, cost: 0.000123 } }),
    expect: ok(),
  },
  {
    name: "a stream cut midway: no failover, the partial kept",
    script: () => upstream.forModel(HAIKU, { kind: "stream", chunks: ["Half ", "a ", "reply"], cutAfter: 2 }),
    expect: partial("Half a "),
  },
  {
    name: "an error event mid-stream: no failover, the partial kept",
    script: () => upstream.forModel(HAIKU, { kind: "stream", chunks: ["Half ", "a ", "reply"], errorAfter: { chunks: 2, message: "Upstream overloaded" } }),
    expect: partial("Half a "),
  },
];

type Run = { headers: Headers; text: string; status: "ok" | "error"; logAfter: number; sessionId?: string };

const MODES: Record<string, () => Promise<Run>> = {
  "the app's chat": async () => {
    const c = parley.client();
    const sessionId = await createSession(c);
    const logAfter = await lastLogId(db.sql);
    const res = await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello?" }) });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    const last = events.at(-1)!;
    const text = events.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    const [stored] = await db.sql<{ content: string; finish_reason: string }[]>`
      select content, finish_reason from messages where session_id = ${sessionId} and role = 'assistant' and finish_reason <> 'opening'`;
    // What was stored is what was streamed, finished or not.
    expect(stored).toMatchObject({ content: text, finish_reason: last.event === "done" ? "stop" : "error" });
    if (last.event === "error") expect(last.data.partial).toMatchObject({ content: text, finishReason: "error" });
    return { headers: res.headers, text, status: last.event === "done" ? "ok" : "error", logAfter, sessionId };
  },
  "/v1 streamed": async () => {
    const logAfter = await lastLogId(db.sql);
    const res = await v1({ model: "parley/roleplay", stream: true, messages: [{ role: "user", content: "Hello?" }] });
    expect(res.status).toBe(200);
    const { chunks, done } = await readOpenAiStream(res);
    expect(done).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason;
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    if (finish === "error") expect(chunks.find((c) => c.error)?.error.message).toBeTruthy();
    return { headers: res.headers, text, status: finish === "error" ? "error" : "ok", logAfter };
  },
  "/v1 not streamed": async () => {
    const logAfter = await lastLogId(db.sql);
    const res = await v1({ model: "parley/roleplay", messages: [{ role: "user", content: "Hello?" }] });
    const body = (await res.json()) as any;
    if (res.status === 502) {
      expect(body.error).toMatchObject({ code: "upstream_error", message: expect.any(String), type: "api_error" });
      return { headers: res.headers, text: "", status: "error", logAfter };
    }
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ object: "chat.completion", choices: [{ index: 0, message: { role: "assistant" } }] });
    return { headers: res.headers, text: body.choices[0].message.content, status: "ok", logAfter };
  },
};

const v1 = (body: unknown) =>
  fetch(`${parley.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });

async function check(mode: string, want: Outcome) {
  const run = await MODES[mode]!();
  expect(run.headers.get("x-parley-provider")).toBe(want.served.provider);
  expect(run.headers.get("x-parley-model")).toBe(want.served.model);
  expect(run.headers.get("x-parley-attempts")).toBe(String(want.attempts.length));
  expect(run.status).toBe(want.status);
  // A non-streamed reply that failed midway has no body to show the partial in; the log has it.
  if (!(mode === "/v1 not streamed" && want.status === "error")) expect(run.text).toBe(want.text);

  const row: LogRow = await logRowAfter(db.sql, run.logAfter);
  expect(row).toMatchObject({ task: "roleplay", status: want.status, provider: want.served.provider, model: want.served.model });
  expect(row.attempts.map((a) => a.status)).toEqual(want.attempts);
  expect(row.attempts.every((a) => typeof a.ms === "number")).toBe(true);
  if (run.sessionId) expect(row.session_id).toBe(run.sessionId);
  else expect(row.client_id).toMatch(/^key:[0-9a-f]{12}$/);
  if (want.usage) {
    expect(row).toMatchObject({ prompt_tokens: want.usage.prompt, completion_tokens: want.usage.completion, tokens_estimated: false });
    expect(row.cost).toBeCloseTo(want.usage.cost, 9);
  } else {
    expect(row.tokens_estimated).toBe(true);
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.error).toBeTruthy();
  }
  if (want.status === "ok") expect(row.ttft_ms).toBeGreaterThanOrEqual(0);
  return row;
}

describe.each(Object.keys(MODES))("faults through %s", (mode) => {
  it.each(CASES)("$name", async ({ script, expect: want }) => {
    script();
    const row = await check(mode, want);
    if (want.attempts[0] === 429 && want.served.model === HAIKU) {
      // It waited for the Retry-After (plus jitter) before trying again.
      expect(row.attempts[0]!.error).toMatch(/retrying after \d+ ms/);
      expect(row.total_ms).toBeGreaterThanOrEqual(900);
    }
  });

  it("connection refused: the next model at once", async () => {
    // Refused only matters when the dead provider is tried first: put its model first.
    await db.sql`update api_models set priority = 0 where model_key = 'dead/model'`;
    await registryReloaded(parley, db.sql);
    try {
      const row = await check(mode, ok(HAIKU, [undefined, 200]));
      expect(row.attempts[0]).toMatchObject({ provider: "dead", error: "connection error (ECONNREFUSED)" });
    } finally {
      await db.sql`update api_models set priority = 50 where model_key = 'dead/model'`;
      await registryReloaded(parley, db.sql);
    }
  });
});
