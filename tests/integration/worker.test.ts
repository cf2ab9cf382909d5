import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readOpenAiStream } from "../support/gateway.js";
import { debriefAnswerSchema, jsonSchemaForDebrief } from "../../contracts/practice.js";
import { readUntil } from "../support/parley.js";
import { runWorkerToExit, startWorker, testModel, type WorkerProcess } from "../support/worker.js";

/**
 * The local chat worker as a real process on real (tiny) GGUF models: stories260K writes English,
 * llama-2-tiny-random has random weights over Llama 2's full vocabulary (multi-byte text, no early end).
 */
const stories = testModel("stories260K.gguf");
const random = testModel("llama-2-tiny-random.gguf");

type Completion = {
  choices: { message: { content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  model: string;
};

const post = (w: WorkerProcess, body: object, signal?: AbortSignal) =>
  fetch(`${w.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "local", ...body }),
    signal,
  });

const complete = async (w: WorkerProcess, body: object) => {
  const res = await post(w, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Completion;
};

const health = async (w: WorkerProcess) =>
  (await (await fetch(`${w.url}/health`)).json()) as { isHealthy: boolean; slots: { busy: number; total: number }; queue: number };

const story = [
  { role: "system", content: "You tell short stories." },
  { role: "user", content: "Once upon a time there was a little dog." },
];

// Skipped only outside CI when stories260K.gguf is missing: testModel() prints why, and under CI=true it throws.
describe.skipIf(!stories.available)("the chat worker on stories260K", () => {
  let w: WorkerProcess;
  beforeAll(async () => {
    w = await startWorker({ CHAT_WORKER_MODEL: stories.path, CHAT_WORKER_CONTEXT: "512", CHAT_WORKER_SLOTS: "2" });
  });
  afterAll(() => w?.stop());

  it("reports its model, context and slots on /health and /v1/models", async () => {
    const res = await fetch(`${w.url}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      isHealthy: true,
      model: "stories260K",
      contextSize: 512,
      slots: { busy: 0, total: 2 },
      queue: 0,
      // The model has no chat template: the configured fallback renders the conversation.
      template: { source: "fallback", name: "general" },
    });
    expect(body.uptimeS).toBeGreaterThanOrEqual(0);
    const models = await (await fetch(`${w.baseUrl}/models`)).json();
    expect(models.data).toEqual([expect.objectContaining({ id: "stories260K", object: "model", context_length: 512 })]);
  });

  it("counts texts' tokens with its model's tokenizer on POST /tokenize, the counts Parley fits prompts by", async () => {
    const texts = ["Once upon a time there was a little dog.", "Once upon a time there was a little dog. ".repeat(5), ""];
    const res = await fetch(`${w.url}/tokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; counts: number[] };
    expect(body.model).toBe("stories260K");
    const [one, five, empty] = body.counts;
    expect(one).toBeGreaterThan(5);
    expect(five).toBeGreaterThanOrEqual(one! * 5 - 5);
    expect(empty).toBe(0);
    // The same tokens the completion's usage counts: the prompt holds the messages and the template's markers.
    const c = await complete(w, { messages: [{ role: "user", content: texts[1] }], max_tokens: 2, temperature: 0 });
    expect(c.usage.prompt_tokens).toBeGreaterThanOrEqual(five!);
    const bad = await fetch(`${w.url}/tokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: "one" }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("answers a completion with usage counted from the real tokens", async () => {
    const c = await complete(w, { messages: story, max_tokens: 24, temperature: 0.8, seed: 1 });
    expect(c.model).toBe("stories260K");
    expect(c.choices[0]!.message.content.length).toBeGreaterThan(0);
    // The rendered prompt is longer than the two messages' words: it carries the template's markers.
    expect(c.usage.prompt_tokens).toBeGreaterThan(15);
    expect(c.usage.completion_tokens).toBeGreaterThan(0);
    expect(c.usage.completion_tokens).toBeLessThanOrEqual(24);
    expect(c.usage.total_tokens).toBe(c.usage.prompt_tokens + c.usage.completion_tokens);
  });

  it("gives the same text for the same seed, and another for another seed", async () => {
    const a = await complete(w, { messages: story, max_tokens: 30, temperature: 1, seed: 42 });
    const b = await complete(w, { messages: story, max_tokens: 30, temperature: 1, seed: 42 });
    const c = await complete(w, { messages: story, max_tokens: 30, temperature: 1, seed: 43 });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(c.choices[0]!.message.content).not.toBe(a.choices[0]!.message.content);
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const c = await complete(w, { messages: story, max_tokens: 5, temperature: 0.8, seed: 3 });
    expect(c.usage.completion_tokens).toBe(5);
    expect(c.choices[0]!.finish_reason).toBe("length");
  });

  it("stops before a stop sequence and leaves it out", async () => {
    const full = (await complete(w, { messages: story, max_tokens: 40, temperature: 0.8, seed: 9 })).choices[0]!.message.content;
    const words = full.split(" ").filter((x) => /^[a-z]{3,}$/.test(x));
    expect(words.length).toBeGreaterThan(1);
    const stop = ` ${words[1]}`;
    const cut = await complete(w, { messages: story, max_tokens: 40, temperature: 0.8, seed: 9, stop: [stop] });
    expect(cut.choices[0]!.finish_reason).toBe("stop");
    expect(cut.choices[0]!.message.content).toBe(full.slice(0, full.indexOf(stop)));
  });

  it("streams OpenAI chunks, the role first, usage when asked, then [DONE]; the text matches the unstreamed one", async () => {
    const body = { messages: story, max_tokens: 20, temperature: 0.8, seed: 5 };
    const whole = await complete(w, body);
    const res = await post(w, { ...body, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const { chunks, done } = await readOpenAiStream(res);
    expect(done).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-2).choices[0].finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0].id)).toBe(true);
  });

  it("refuses a conversation longer than the context with a 400 that says so", async () => {
    const res = await post(w, { messages: [{ role: "user", content: "the dog ran ".repeat(300) }] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("context_length_exceeded");
    expect(body.error.message).toMatch(/tokens long and this model's context holds 512/);
    expect((await health(w)).slots.busy).toBe(0);
  });

  it("refuses malformed requests with OpenAI-shaped errors", async () => {
    const bad = await fetch(`${w.baseUrl}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: "invalid_json", type: "invalid_request_error" });
    const empty = await post(w, { messages: [] });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.message).toMatch(/messages/);
  });
});

// Skipped only outside CI when stories260K.gguf is missing: testModel() prints why, and under CI=true it throws.
describe.skipIf(!stories.available)("the chat worker holding a tiny model to response_format", () => {
  let w: WorkerProcess;
  beforeAll(async () => {
    w = await startWorker({ CHAT_WORKER_MODEL: stories.path, CHAT_WORKER_CONTEXT: "2048", CHAT_WORKER_SLOTS: "1" });
  });
  afterAll(() => w?.stop());
  const evaluate = [
    { role: "system", content: "You evaluate a practice conversation. Answer in JSON." },
    { role: "user", content: "Transcript: the person said sorry and offered a refund." },
  ];

  it("answers the debrief's JSON schema with JSON that matches it, whatever the seed", async () => {
    const schema = jsonSchemaForDebrief(2);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const c = await complete(w, {
        messages: evaluate,
        max_tokens: 1700,
        temperature: 1,
        seed,
        response_format: { type: "json_schema", json_schema: { name: "debrief", schema } },
      });
      const text = c.choices[0]!.message.content;
      expect(c.choices[0]!.finish_reason, `seed ${seed}: ${text.slice(-80)}`).toBe("stop");
      const parsed = debriefAnswerSchema(2).omit({ strengths: true, tryNext: true, weakest: true, objectives: true }).safeParse(JSON.parse(text));
      expect(parsed.success, `seed ${seed}: ${text}`).toBe(true);
      // The shape itself, field by field (the strings may be empty: a tiny model has little to say).
      const o = JSON.parse(text) as { objectives: { objective: number; rating: string; evidence: string[] }[]; strengths: string[]; weakest: { quote: string; better: string } };
      expect(o.objectives.map((x) => x.objective).every((n) => n === 1 || n === 2)).toBe(true);
      expect(o.objectives).toHaveLength(2);
      expect(o.objectives.every((x) => ["met", "partly", "not_met"].includes(x.rating) && x.evidence.length <= 2)).toBe(true);
      expect(o.strengths.length).toBeGreaterThanOrEqual(2);
      expect(typeof o.weakest.quote).toBe("string");
    }
  });

  it("answers json_object with a JSON object, and refuses a schema it cannot follow", async () => {
    const c = await complete(w, { messages: evaluate, max_tokens: 400, temperature: 0.8, seed: 7, response_format: { type: "json_object" } });
    const text = c.choices[0]!.message.content;
    if (c.choices[0]!.finish_reason === "stop") expect(typeof JSON.parse(text)).toBe("object");
    else expect(text.trimStart().startsWith("{")).toBe(true);
    const bad = await post(w, { messages: evaluate, max_tokens: 10, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "no-such-type" } } } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("response_format");
  });
});

// Skipped only outside CI when llama-2-tiny-random.gguf is missing: testModel() prints why, and under CI=true it throws.
describe.skipIf(!random.available)("the chat worker holding a random-weight model to the debrief's schema", () => {
  let w: WorkerProcess;
  beforeAll(async () => {
    w = await startWorker({ CHAT_WORKER_MODEL: random.path, CHAT_WORKER_CONTEXT: "4096", CHAT_WORKER_SLOTS: "1" });
  });
  afterAll(() => w?.stop());

  it("answers JSON of the schema on every seed, from a vocabulary of 32,000 pieces", async () => {
    const schema = jsonSchemaForDebrief(3);
    for (const seed of [11, 12, 13, 14]) {
      const c = await complete(w, {
        messages: [{ role: "user", content: "Evaluate." }],
        max_tokens: 3000,
        temperature: 1,
        seed,
        response_format: { type: "json_schema", json_schema: { name: "debrief", schema } },
      });
      const text = c.choices[0]!.message.content;
      expect(c.choices[0]!.finish_reason, `seed ${seed}: ${text.slice(-80)}`).toBe("stop");
      const o = JSON.parse(text) as { objectives: { objective: number; rating: string }[]; score: number; strengths: string[] };
      expect(o.objectives).toHaveLength(3);
      expect(o.objectives.every((x) => [1, 2, 3].includes(x.objective) && ["met", "partly", "not_met"].includes(x.rating))).toBe(true);
      expect(Number.isInteger(o.score) && o.score >= 0 && o.score <= 100).toBe(true);
      expect(o.strengths.length).toBeGreaterThanOrEqual(2);
    }
  });
});

// Skipped only outside CI when llama-2-tiny-random.gguf is missing: testModel() prints why, and under CI=true it throws.
describe.skipIf(!random.available)("the chat worker on llama-2-tiny-random (one slot, a queue of one)", () => {
  let w: WorkerProcess;
  // Random weights almost never end a reply early: a reply of thousands of tokens lasts seconds.
  const long = { messages: [{ role: "user", content: "Hello" }], max_tokens: 3500, temperature: 1, stream: true };
  beforeAll(async () => {
    w = await startWorker({ CHAT_WORKER_MODEL: random.path, CHAT_WORKER_CONTEXT: "4096", CHAT_WORKER_SLOTS: "1", CHAT_WORKER_QUEUE: "1" });
  });
  afterAll(() => w?.stop());

  it("never splits a multi-byte character across chunks", async () => {
    const body = { messages: [{ role: "user", content: "Привет, 世界! Ünïcödé" }], max_tokens: 400, temperature: 1, seed: 7 };
    const whole = (await complete(w, body)).choices[0]!.message.content;
    // The vocabulary's multilingual pieces do come out: the check below has something to check.
    expect([...whole].filter((ch) => ch.codePointAt(0)! > 0x7f).length).toBeGreaterThan(50);
    const { chunks } = await readOpenAiStream(await post(w, { ...body, stream: true }));
    const pieces = chunks.map((c) => c.choices[0]?.delta?.content ?? "").filter(Boolean);
    // Tokens this fast are grouped a few to an event; there are still many boundaries.
    expect(pieces.length).toBeGreaterThan(10);
    // A character cut between chunks would come out as U+FFFD or a lone surrogate on each side.
    expect(pieces.join("")).toBe(whole);
    for (const p of pieces) expect(p).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
  });

  it("never splits a multi-byte character between the engine's text pieces (every token boundary)", async () => {
    const { Engine } = await import("../../worker/engine.js");
    const { loadWorkerConfig } = await import("../../worker/config.js");
    const { pino } = await import("pino");
    const config = loadWorkerConfig({ CHAT_WORKER_THREADS: "1", CHAT_WORKER_SLOTS: "1", CHAT_WORKER_CONTEXT: "1024" });
    const engine = await Engine.load(config, random.path, pino({ level: "silent" }));
    try {
      const slot = engine.slots[0]!;
      const prepared = engine.prepare([{ role: "user", content: "Привет, 世界! Ünïcödé" }]);
      const pieces: string[] = [];
      const tokens: Token[] = [];
      const g = await engine.generate(slot, prepared, { maxTokens: 400, temperature: 1, seed: 11 }, {
        signal: new AbortController().signal,
        onText: (t, ts) => {
          pieces.push(t);
          tokens.push(...ts);
        },
      });
      expect(pieces.length).toBeGreaterThan(300);
      expect(tokens).toHaveLength(g.completionTokens);
      // The reference: every generated token detokenized at once, so no boundary can cut a character.
      const reference = slot.chat.model.detokenize(tokens);
      expect([...reference].filter((ch) => ch.codePointAt(0)! > 0x7f).length).toBeGreaterThan(50);
      expect(pieces.join("")).toBe(reference);
      expect(g.text).toBe(reference);
      for (const p of pieces) expect(p).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
    } finally {
      await engine.close();
    }
  });

  it("frees the slot as soon as a streaming client goes away", async () => {
    const client = new AbortController();
    const res = await post(w, long, client.signal);
    await readUntil(res, '"content":"');
    expect((await health(w)).slots.busy).toBe(1);
    client.abort();
    // Generating the rest would take seconds; the slot is back well before.
    await vi.waitFor(async () => expect((await health(w)).slots.busy).toBe(0), { timeout: 1500, interval: 20 });
    const next = await complete(w, { messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
    expect(next.usage.completion_tokens).toBe(3);
  });

  it("queues one request behind a busy slot and refuses the next with 503 and Retry-After", async () => {
    const holder = new AbortController();
    const res = await post(w, long, holder.signal);
    await readUntil(res, '"content":"');

    const queued = new AbortController();
    const waiting = post(w, { messages: [{ role: "user", content: "Hi" }], max_tokens: 3 }, queued.signal).catch((err: Error) => err);
    await vi.waitFor(async () => expect((await health(w)).queue).toBe(1), { timeout: 5000, interval: 20 });

    const refused = await post(w, { messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error).toMatchObject({ code: "worker_busy", message: expect.stringMatching(/queue is full/) });

    // A queued client that leaves gives up its place.
    queued.abort();
    expect(await waiting).toBeInstanceOf(Error);
    await vi.waitFor(async () => expect((await health(w)).queue).toBe(0), { timeout: 5000, interval: 20 });
    holder.abort();
    await vi.waitFor(async () => expect((await health(w)).slots.busy).toBe(0), { timeout: 1500, interval: 20 });
  });
});

describe("the chat worker refuses a model file it cannot use", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-worker-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["missing", () => path.join(dir, "nope.gguf"), /cannot read model file .*nope\.gguf: no such file/],
    [
      "not GGUF",
      () => {
        const p = path.join(dir, "fake.gguf");
        writeFileSync(p, "this is not a model");
        return p;
      },
      /model file .*fake\.gguf is not a GGUF file/,
    ],
    ["a directory", () => dir, /cannot read model file .*: is a directory/],
  ])("exits with one line naming the file when it is %s", async (_, make, message) => {
    const file = make();
    const { code, output } = await runWorkerToExit({ CHAT_WORKER_MODEL: file });
    expect(code).toBe(1);
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^chat worker: /);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(message);
  });
});
