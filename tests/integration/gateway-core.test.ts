import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../server/gateway/breaker.js";
import { createGateway } from "../../server/gateway/gateway.js";
import { ProviderStatus } from "../../server/gateway/provider-status.js";
import { Registry } from "../../server/gateway/registry.js";
import type { RequestRecord, StreamEvent } from "../../server/gateway/types.js";
import { modelRow, providerRow } from "../support/registry-rows.js";
import { WorkerHealth } from "../../server/gateway/worker-health.js";
import { HAIKU, SONNET } from "../support/gateway.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * The gateway core on its own, without a server: it takes plain data and a signal and gives
 * back events and records. Here: the request's time budget, and provider conditions.
 */
let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await ScriptedUpstream.start();
});
afterAll(() => upstream?.close());

function gateway(requestMs: number, { sonnetActive = true } = {}) {
  const registry = new Registry({ openrouterBaseUrl: upstream.baseUrl, chatWorkerUrl: undefined }, () => "sk-core");
  const model = (id: string, modelKey: string, priority: number, isDefault = false) =>
    modelRow({ id, modelKey, priority, isDefault, providerId: "or", inputPricePerMtok: 1, outputPricePerMtok: 2 });
  registry.replace(
    [providerRow({ id: "or", name: "openrouter", displayName: "OpenRouter", kind: "openrouter", baseUrl: "", secretName: "OPENROUTER_API_KEY" })],
    [model("h", HAIKU, 1, true), { ...model("s", SONNET, 2), isActive: sonnetActive }],
  );
  return gatewayOn(registry, requestMs);
}

/** The gateway core over a registry, its records kept. */
function gatewayOn(registry: Registry, requestMs: number) {
  const records: RequestRecord[] = [];
  const providerStatus = new ProviderStatus();
  const gw = createGateway({
    registry,
    // The scripted upstream is on loopback.
    allowPrivateUpstreams: true,
    breaker: new CircuitBreaker({ failureThreshold: 1000, cooldownMs: 1000 }),
    providerStatus,
    workerHealth: new WorkerHealth({ intervalMs: 60_000, persist: async () => {} }),
    app: { url: "http://parley.test", title: "Parley" },
    timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000, requestMs },
    retryAfterMaxS: 10,
    onRecord: (r) => records.push(r),
  });
  return { gw, records, providerStatus };
}

const ask = (signal: AbortSignal = new AbortController().signal) => ({
  task: "roleplay",
  messages: [{ role: "user" as const, content: "hi" }],
  signal,
});

async function drain(batches: AsyncIterable<StreamEvent[]>) {
  const out: StreamEvent[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

describe("a stream closed before it was read", () => {
  it("is recorded as aborted with what had arrived, and its upstream request let go", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, { kind: "stream", chunks: ["one ", "two ", "three "], delayMs: 300 });
    const { gw, records } = gateway(10_000);
    const open = await gw.openStream(ask());
    // Closed unstarted (a caller whose client left before the first event was sent): a generator's
    // finally does not run then, yet the request must still be recorded and its circuit slot settled.
    await open.batches.return(undefined);
    const record = await open.record;
    expect(record).toMatchObject({ status: "aborted", model: HAIKU });
    expect(record.text).toBe("one ");
    expect(records).toEqual([record]);
    await upstream.requests[0]!.closed;
  });
});

describe("the request's time budget", () => {
  it("ends a stream that outlives it with an error, keeping what arrived", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, { kind: "stream", chunks: ["one ", "two ", "three ", "four ", "five "], delayMs: 400 });
    const { gw, records } = gateway(1000);
    const open = await gw.openStream(ask());
    const events = await drain(open.batches);
    expect(events.at(-1)).toMatchObject({ type: "error", message: expect.stringContaining("budget") });
    const record = await open.record;
    expect(record).toMatchObject({ status: "error", model: HAIKU, tokensEstimated: true });
    expect(record.text.length).toBeGreaterThan(0);
    expect(record.text).not.toContain("five");
    expect(records).toEqual([record]);
    await upstream.requests[0]!.closed; // the upstream request was cancelled
  });

  it("does not wait for a Retry-After that would not fit: the next model at once", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, { kind: "status", status: 429, headers: { "Retry-After": "5" } });
    const { gw } = gateway(3000);
    const done = await gw.complete(ask());
    expect(done.candidate.model.modelKey).toBe(SONNET);
    expect(done.attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(done.attempts[0]!.error).not.toContain("retrying");
    expect(done.record.cost).toBe(0.000123); // OpenRouter's own usage.cost wins over tokens × prices
  });
});

describe("a conversation too long for the models", () => {
  const tooLong = (holds: number) => ({
    kind: "status" as const,
    status: 400,
    body: { error: { code: "context_length_exceeded", message: `This model's context holds ${holds} tokens` } },
  });

  it("is said as such when the models asked refused it for its length and the rest could not be asked", async () => {
    // Seen with the local worker (a 2,048-token window) first and OpenRouter without a key after it:
    // the person was told every provider had failed and to try again, which could never help.
    upstream.reset();
    upstream.forModel(HAIKU, tooLong(2048));
    const { gw } = gateway(3000, { sonnetActive: false });
    const err = await gw.openStream(ask()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "prompt_too_long", status: 400 });
    expect((err as Error).message).toBe(`The conversation is too long for the models that could answer it (${HAIKU}: This model's context holds 2048 tokens)`);
    expect(upstream.requests.map((r) => r.body.model)).toEqual([HAIKU]);
  });

  it("from the last model, is its refusal, and comes after the others were tried", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, tooLong(2048));
    upstream.forModel(SONNET, tooLong(4096));
    const { gw } = gateway(3000);
    const err = await gw.openStream(ask()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "upstream_rejected", status: 400 });
    expect((err as Error).message).toContain("This model's context holds 4096 tokens");
    expect(upstream.requests.map((r) => r.body.model)).toEqual([HAIKU, SONNET]);
  });

  it("stays an outage when another model failed for another reason", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, tooLong(2048));
    upstream.forModel(SONNET, { kind: "status", status: 503 });
    const { gw } = gateway(3000);
    const err = await gw.openStream(ask()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "upstream_unavailable", status: 503 });
  });
});

describe("a task none of whose models is set up", () => {
  // Seen with only the local worker running: Enhance answered "No model provider is configured:
  // set OPENROUTER_API_KEY or start the local chat worker", which was running and serving the chat.
  it("says which key its models lack and that another provider serves other tasks, not to start what runs", async () => {
    const registry = new Registry({ openrouterBaseUrl: upstream.baseUrl, chatWorkerUrl: undefined }, (name) => (name === "OPENROUTER_API_KEY" ? undefined : "sk-local"));
    registry.replace(
      [
        providerRow({ id: "or", name: "or", displayName: "OpenRouter", kind: "openrouter", baseUrl: upstream.baseUrl, secretName: "OPENROUTER_API_KEY" }),
        providerRow({ id: "box", name: "box", displayName: "The box", kind: "openai_compatible", baseUrl: upstream.baseUrl, secretName: "BOX_KEY" }),
      ],
      [modelRow({ id: "e", modelKey: "or-enhance", providerId: "or", task: "enhance" }), modelRow({ id: "r", modelKey: "box-roleplay", providerId: "box" })],
    );
    const { gw } = gatewayOn(registry, 5000);
    const err = await gw.openStream({ ...ask(), task: "enhance" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "no_provider", status: 503 });
    expect((err as Error).message).toBe(
      'No model for the "enhance" task is set up (OPENROUTER_API_KEY not set), while The box serves other tasks: give the task one of its models in the dashboard\'s Models tab',
    );
  });
});

describe("provider conditions", () => {
  it("marks a 402 as payment required and a 401 as misconfigured; a success clears them", async () => {
    upstream.reset();
    const { gw, providerStatus } = gateway(10_000);
    upstream.forModel(HAIKU, { kind: "status", status: 402, body: { error: { message: "Insufficient credits" } } });
    await gw.complete(ask());
    // Sonnet answered, but that says nothing of Haiku's credit: the condition stays.
    expect(providerStatus.get("openrouter")).toMatchObject({ condition: "payment_required", model: HAIKU, lastError: "Insufficient credits" });
    await gw.complete(ask());
    expect(providerStatus.get("openrouter")?.condition).toBe("ok"); // Haiku answered this time

    upstream.forModel(HAIKU, { kind: "status", status: 401 });
    await expect(gw.complete(ask())).rejects.toMatchObject({
      code: "upstream_rejected",
      status: 502,
      message: expect.stringContaining("OPENROUTER_API_KEY"),
    });
    expect(providerStatus.get("openrouter")?.condition).toBe("misconfigured");
    expect(gw.status().providers.openrouter?.condition).toBe("misconfigured");

    await gw.complete(ask());
    expect(providerStatus.get("openrouter")?.condition).toBe("ok");
  });

  it("cancels the upstream at once when the caller aborts before the reply starts", async () => {
    upstream.reset();
    upstream.forModel(HAIKU, { kind: "hang" });
    const { gw, records } = gateway(10_000);
    const controller = new AbortController();
    const pending = gw.openStream(ask(controller.signal));
    await upstream.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
    await upstream.requests[0]!.closed;
    expect(upstream.requests).toHaveLength(1); // no failover after the caller left
    expect(records.at(-1)).toMatchObject({ status: "aborted" });
  });
});

describe("large prompts", () => {
  // Bodies of 64 KB and more are written into memory lent from a pool and given back after the
  // answer: a body still in flight must never be written over by the next, nor a shorter body carry
  // the tail of a longer one.
  const long = (tag: string, n: number) => Object.freeze({ role: "user" as const, content: `${tag} ${"x".repeat(n)}` });
  const sentMessages = (i: number) => (upstream.requests[i]!.body as { messages: { content: string }[] }).messages.map((m) => m.content);

  it("reach the upstream as sent, at once and one after another, longer and shorter", async () => {
    upstream.reset();
    upstream.setDefault({ kind: "stream", chunks: ["c"] });
    const { gw } = gateway(30_000);
    const ask = (messages: readonly ReturnType<typeof long>[]) => ({ task: "roleplay", messages: [...messages], signal: new AbortController().signal });
    const bodies = [
      [long("first", 150_000), long("first-2", 20_000)],
      [long("second", 180_000)],
      [long("third", 70_000)],
      [long("fourth", 190_000), long("fourth-2", 5)],
    ];
    // One after another: each body's memory is given back and lent to the next (shorter, then longer).
    for (const messages of bodies) await gw.complete(ask(messages));
    // At once: two bodies built while both are in flight never share memory.
    await Promise.all([gw.complete(ask(bodies[1]!)), gw.complete(ask(bodies[0]!)), gw.complete(ask(bodies[3]!))]);
    const expected = [...bodies, bodies[1]!, bodies[0]!, bodies[3]!].map((b) => b.map((m) => m.content).sort());
    const received = upstream.requests.map((_, i) => sentMessages(i).sort());
    expect(received.slice(0, 4)).toEqual(expected.slice(0, 4));
    // The three sent at once may arrive in any order.
    expect(received.slice(4).sort()).toEqual(expected.slice(4).sort());
  });
});
