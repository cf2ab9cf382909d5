import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { HAIKU, SONNET, lastLogId, logRowAfter, readOpenAiStream, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import type { ParleyProcess } from "../support/parley.js";
import type { ScriptedUpstream } from "../support/upstream.js";

/** The OpenAI-compatible API as other clients see it, official client libraries included. */
const OPENROUTER_KEY = "sk-or-v1api-77aa88bb99cc";
const API_KEYS = ["pk-first-aaaaaaaaaaaa", "pk-second-bbbbbbbbbbbb"];
const FULL_TEXT = "*smiles warmly* Hello from the scripted upstream.";

let stack: GatewayStack;
let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let db: GatewayStack["db"];

beforeAll(async () => {
  stack = await startGatewayStack({
    OPENROUTER_API_KEY: OPENROUTER_KEY,
    PARLEY_API_KEYS: ` ${API_KEYS.join(" , ")} `,
    PARLEY_APP_URL: "http://parley.test",
    PARLEY_APP_TITLE: "Parley Test",
  });
  ({ upstream, parley, db } = stack);
});
afterEach(() => upstream.reset());
afterAll(() => stack?.stop());

const post = (body: unknown, key: string | null = API_KEYS[0]!) =>
  fetch(`${parley.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("authentication", () => {
  it.each([
    ["no key", null],
    ["a wrong key", "pk-wrong-cccccccccccc"],
  ])("answers 401 in OpenAI's error shape with %s, and calls no model", async (_, key) => {
    const res = await post({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] }, key);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "invalid_api_key", type: "authentication_error", message: expect.stringContaining("Bearer") });
    expect(JSON.stringify(body)).not.toContain("pk-");
    expect(upstream.requests).toHaveLength(0);
  });

  it("accepts every key in PARLEY_API_KEYS, and logs a fingerprint, never the key", async () => {
    for (const key of API_KEYS) {
      const after = await lastLogId(db.sql);
      const res = await post({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] }, key);
      expect(res.status).toBe(200);
      const row = await logRowAfter(db.sql, after);
      expect(row.client_id).toMatch(/^key:[0-9a-f]{12}$/);
      expect(row.client_id).not.toContain(key.slice(3, 10));
    }
  });
});

describe("models", () => {
  it("tells the client its rate limit on every answer it counts, streamed, whole or refused, and never lets it be sniffed", async () => {
    const messages = [{ role: "user", content: "hi" }];
    const answers = [
      await post({ model: "parley/roleplay", messages }),
      await post({ model: "parley/roleplay", messages, stream: true }),
      await post({ model: "no/such-model", messages }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 404]);
    for (const res of answers) {
      expect(Number(res.headers.get("ratelimit-limit"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("ratelimit-remaining"))).toBeLessThan(Number(res.headers.get("ratelimit-limit")));
      expect(res.headers.get("ratelimit-reset")).toMatch(/^\d+$/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  it("lists one alias per task and the models that can serve", async () => {
    const res = await fetch(`${parley.url}/v1/models`, { headers: { authorization: `Bearer ${API_KEYS[1]}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string; object: string; owned_by: string }[] };
    expect(body.object).toBe("list");
    const ids = body.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["parley/roleplay", "parley/enhance", HAIKU, SONNET]));
    expect(ids).not.toContain("local"); // no CHAT_WORKER_URL: the worker's model cannot serve
    expect(new Set(ids).size).toBe(ids.length);
    expect(body.data.every((m) => m.object === "model")).toBe(true);
  });

  it("routes a named model first, with its task's other models behind it", async () => {
    upstream.forModel(SONNET, { kind: "status", status: 500 });
    const res = await post({ model: SONNET, messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-parley-model")).toBe(HAIKU);
    expect(res.headers.get("x-parley-attempts")).toBe("2");
    expect(upstream.requests.map((r) => r.body.model)).toEqual([SONNET, HAIKU]);
  });

  it("answers 404 model_not_found for an unknown model or task, without a call", async () => {
    for (const model of ["no/such-model", "parley/nonsense"]) {
      const res = await post({ model, messages: [{ role: "user", content: "hi" }] });
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error).toMatchObject({ code: "model_not_found", type: "invalid_request_error" });
    }
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("requests", () => {
  it("passes the client's parameters over the task profile, with OpenRouter's headers and our key", async () => {
    const res = await post({
      model: "parley/roleplay",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello " }, { type: "text", text: "there" }] },
      ],
      temperature: 0.2,
      max_tokens: 33,
      stop: "END",
      seed: 7,
      response_format: { type: "json_schema", json_schema: { name: "reply", schema: { type: "object", properties: { text: { type: "string" } } } } },
    });
    expect(res.status).toBe(200);
    const [req] = upstream.requests;
    expect(req!.headers.authorization).toBe(`Bearer ${OPENROUTER_KEY}`);
    expect(req!.headers["http-referer"]).toBe("http://parley.test");
    expect(req!.headers["x-title"]).toBe("Parley Test");
    expect(req!.body).toMatchObject({
      model: HAIKU,
      // As the client wrote them: a developer message as system, content parts as parts.
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello " }, { type: "text", text: "there" }] },
      ],
      temperature: 0.2,
      max_tokens: 33,
      top_p: 0.95, // from the roleplay profile: the client did not set it
      stop: ["END"],
      seed: 7,
      // Structured output goes to the provider as the client asked for it.
      response_format: { type: "json_schema", json_schema: { name: "reply", schema: { type: "object", properties: { text: { type: "string" } } } } },
      stream: true,
    });
  });

  it.each([
    ["malformed JSON", "{nope", 400, "invalid_json"],
    ["no messages", { model: "parley/roleplay", messages: [] }, 400, "invalid_request"],
    ["no model", { messages: [{ role: "user", content: "hi" }] }, 400, "invalid_request"],
    ["a tool that is not a function", { model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], tools: [{ type: "retrieval" }] }, 400, "invalid_request"],
    ["a tool message without its call's id", { model: "parley/roleplay", messages: [{ role: "tool", content: "42" }] }, 400, "invalid_request"],
    ["a content part of an unknown kind", { model: "parley/roleplay", messages: [{ role: "user", content: [{ type: "video", url: "x" }] }] }, 400, "invalid_request"],
    ["n = 2", { model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], n: 2 }, 400, "invalid_request"],
    ["an unknown response_format", { model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], response_format: { type: "yaml" } }, 400, "invalid_request"],
    ["a json_schema without its schema", { model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], response_format: { type: "json_schema", json_schema: { name: "x" } } }, 400, "invalid_request"],
  ])("refuses %s with a 4xx that says what is wrong", async (_, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const err = ((await res.json()) as any).error;
    expect(err).toMatchObject({ code, type: "invalid_request_error", message: expect.any(String) });
    expect(err.message.length).toBeGreaterThan(5);
    expect(upstream.requests).toHaveLength(0);
  });

  it("says whether the model is missing or is not a string", async () => {
    const messages = [{ role: "user", content: "hi" }];
    for (const [body, said] of [
      [{ messages }, "model is required"],
      [{ model: 1, messages }, "model must be a string"],
      [{ model: "", messages }, "model is required"],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(said);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it("passes a provider's 400 on without failover, and a 401 as our misconfiguration", async () => {
    upstream.forModel(HAIKU, { kind: "status", status: 400, body: { error: { message: "context length exceeded" } } });
    const bad = await post({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatchObject({ code: "upstream_rejected", message: expect.stringContaining("context length exceeded") });
    expect(bad.headers.get("x-parley-attempts")).toBe("1");
    expect(bad.headers.get("x-parley-model")).toBe(HAIKU);

    upstream.forModel(HAIKU, { kind: "status", status: 401, body: { error: { message: "No auth credentials found" } } });
    const unauthorised = await post({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] });
    expect(unauthorised.status).toBe(502);
    const err = ((await unauthorised.json()) as any).error;
    expect(err.message).toContain("OPENROUTER_API_KEY");
    expect(err.message).not.toContain(OPENROUTER_KEY);
    expect(upstream.requests.map((r) => r.body.model)).toEqual([HAIKU, HAIKU]); // no failover either time
  });
});

describe("the access log", () => {
  /** The access lines for /v1's completions printed since line `from` of Parley's output. */
  const accessLines = (from: number) =>
    parley.logs
      .slice(from)
      .filter((l) => l.includes('"msg":"request"') && l.includes('"path":"/v1/chat/completions"'))
      .map((l) => JSON.parse(l) as { level: number; status: number; ms: number });
  /**
   * Where the lines still to come begin: Parley's output reaches the test some time after it is
   * written, so earlier tests' lines can still be on their way. A request to a path of its own is
   * answered (and logged) after all of them; the lines after its own are new.
   */
  const logsSettled = async () => {
    const marker = `/v1/marker-${Math.random().toString(36).slice(2)}`;
    await (await fetch(`${parley.url}${marker}`, { headers: { authorization: `Bearer ${API_KEYS[0]}` } })).arrayBuffer();
    return vi.waitFor(() => {
      const at = parley.logs.findIndex((l) => l.includes(`"path":"${marker}"`));
      expect(at).toBeGreaterThanOrEqual(0);
      return at + 1;
    });
  };

  it("logs a whole answer that failed mid-reply with the 502 it was sent, as a warning", async () => {
    upstream.enqueue({ kind: "stream", chunks: ["Half ", "a ", "reply"], cutAfter: 2 });
    const from = await logsSettled();
    const res = await post({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(502);
    await res.arrayBuffer();
    const [line] = await vi.waitFor(() => {
      const lines = accessLines(from);
      expect(lines).toHaveLength(1);
      return lines;
    });
    expect(line).toMatchObject({ status: 502, level: 40 });
  });

  it("times a stream to its end, not to its first byte (its handler returns as it starts)", async () => {
    upstream.enqueue({ kind: "stream", chunks: ["one ", "two ", "three ", "four"], delayMs: 50 });
    const from = await logsSettled();
    const started = performance.now();
    const res = await post({ model: "parley/roleplay", stream: true, messages: [{ role: "user", content: "hi" }] });
    const { done } = await readOpenAiStream(res);
    const took = performance.now() - started;
    expect(done).toBe(true);
    const [line] = await vi.waitFor(() => {
      const lines = accessLines(from);
      expect(lines).toHaveLength(1);
      return lines;
    });
    // Three 50 ms pauses lie between the first chunk and the last.
    expect(line).toMatchObject({ status: 200, level: 20 });
    expect(line!.ms).toBeGreaterThanOrEqual(150);
    expect(line!.ms).toBeLessThanOrEqual(Math.ceil(took) + 1);
  });
});

describe("a client that leaves", () => {
  const leaving = (body: unknown, signal: AbortSignal) =>
    fetch(`${parley.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEYS[0]}` },
      body: JSON.stringify(body),
      signal,
    });

  /** The one aborted request logged after `after` (rows of earlier tests may still be landing). */
  const abortedRowAfter = (after: number) =>
    vi.waitFor(
      async () => {
        const rows = await db.sql<{ status: string; completion_tokens: number }[]>`select * from request_log where id > ${after} and status = 'aborted'`;
        expect(rows).toHaveLength(1);
        return rows[0]!;
      },
      { timeout: 10_000, interval: 50 },
    );

  it("mid-stream: the upstream request is cancelled and the request logged as aborted", async () => {
    upstream.enqueue({ kind: "stream", chunks: ["I am ", "not done ", "yet"], holdAfter: 2 });
    const after = await lastLogId(db.sql);
    const ctl = new AbortController();
    const res = await leaving({ model: "parley/roleplay", stream: true, messages: [{ role: "user", content: "hi" }] }, ctl.signal);
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("not done")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    ctl.abort();
    await upstream.requests[0]!.closed;
    expect((await abortedRowAfter(after)).completion_tokens).toBeGreaterThan(0);
  });

  it("before a whole answer: the upstream request is cancelled and the request logged as aborted", async () => {
    upstream.enqueue({ kind: "stream", chunks: ["I am ", "thinking"], holdAfter: 1 });
    const after = await lastLogId(db.sql);
    const ctl = new AbortController();
    const answer = leaving({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] }, ctl.signal).catch((err: Error) => err);
    await vi.waitFor(() => expect(upstream.requests).toHaveLength(1));
    ctl.abort();
    expect(await answer).toBeInstanceOf(Error);
    await upstream.requests[0]!.closed;
    expect(await abortedRowAfter(after)).toMatchObject({ status: "aborted" });
  });
});

describe("official clients", () => {
  const openai = () => new OpenAI({ baseURL: `${parley.url}/v1`, apiKey: API_KEYS[0]!, maxRetries: 0 });

  it("the openai package, not streamed", async () => {
    const completion = await openai().chat.completions.create({ model: "parley/roleplay", messages: [{ role: "user", content: "Hello?" }] });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.content).toBe(FULL_TEXT);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 });
    expect(completion.model).toBe(HAIKU);
  });

  it("the openai package, streamed, with usage in the last chunk", async () => {
    const stream = await openai().chat.completions.create({
      model: "parley/roleplay",
      messages: [{ role: "user", content: "Hello?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(FULL_TEXT);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 42, completion_tokens: 7 });
  });

  const WEATHER_TOOL = {
    type: "function" as const,
    function: { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  };
  const callDeltas = [
    { role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] },
    { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
  ];

  it.each([false, true])("the openai package runs a tool call round trip through Parley (streamed: %s)", async (streamed) => {
    // First the model calls the tool; then, given its answer, it replies.
    upstream.enqueue({ kind: "stream", chunks: callDeltas, finishReason: "tool_calls", usage: { prompt_tokens: 30, completion_tokens: 9 } });
    upstream.enqueue({ kind: "stream", chunks: ["It is ", "sunny in Oslo."], usage: { prompt_tokens: 50, completion_tokens: 6 } });
    const client = openai();
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Oslo?" }];
    let call: OpenAI.ChatCompletionMessageToolCall;
    if (streamed) {
      const stream = await client.chat.completions.create({ model: "parley/roleplay", messages, tools: [WEATHER_TOOL], tool_choice: "auto", stream: true });
      const calls: { id?: string; name: string; args: string }[] = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
          const at = (calls[d.index] ??= { name: "", args: "" });
          if (d.id) at.id = d.id;
          at.name += d.function?.name ?? "";
          at.args += d.function?.arguments ?? "";
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).toBe("tool_calls");
      expect(calls).toEqual([{ id: "call_1", name: "get_weather", args: '{"city":"Oslo"}' }]);
      call = { id: calls[0]!.id!, type: "function", function: { name: calls[0]!.name, arguments: calls[0]!.args } };
    } else {
      const first = await client.chat.completions.create({ model: "parley/roleplay", messages, tools: [WEATHER_TOOL], tool_choice: "auto" });
      expect(first.choices[0]!.finish_reason).toBe("tool_calls");
      expect(first.choices[0]!.message.content).toBeNull();
      call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageToolCall;
      expect(call).toEqual({ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } });
    }
    // The upstream got the tools as the client wrote them.
    expect(upstream.requests[0]!.body).toMatchObject({ tools: [WEATHER_TOOL], tool_choice: "auto" });

    messages.push({ role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: call.id, content: '{"sky":"sunny"}' });
    const second = await client.chat.completions.create({ model: "parley/roleplay", messages, tools: [WEATHER_TOOL] });
    expect(second.choices[0]!.message.content).toBe("It is sunny in Oslo.");
    // The call and its answer went on as they were.
    expect(upstream.requests[1]!.body.messages).toEqual([
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: "call_1", content: '{"sky":"sunny"}' },
    ]);
  });

  it("the openai package asks for a json_schema answer, passed on as asked", async () => {
    upstream.enqueue({ kind: "stream", chunks: ['{"mood":', '"calm"}'] });
    const schema = { type: "object", properties: { mood: { type: "string" } }, required: ["mood"], additionalProperties: false };
    const res = await openai().chat.completions.create({
      model: "parley/roleplay",
      messages: [{ role: "user", content: "How do you feel?" }],
      response_format: { type: "json_schema", json_schema: { name: "mood", schema, strict: true } },
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ mood: "calm" });
    expect(upstream.requests[0]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "mood", schema, strict: true } });
  });

  it("passes content parts with cache_control and images on, and gives reasoning apart from the content, with cached and reasoning tokens", async () => {
    upstream.enqueue({
      kind: "stream",
      chunks: [{ reasoning: "The user greets; " }, { reasoning: "be brief." }, "Hello ", "again."],
      usage: { prompt_tokens: 900, completion_tokens: 20, cost: 0.0004, prompt_tokens_details: { cached_tokens: 800, cache_write_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 12 } },
    });
    const before = await lastLogId(db.sql);
    const system = [{ type: "text", text: "A long, stable instruction.", cache_control: { type: "ephemeral" } }];
    const user = [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    ];
    const res = await post({ model: "parley/roleplay", stream: true, stream_options: { include_usage: true }, reasoning: { effort: "low" }, messages: [{ role: "system", content: system }, { role: "user", content: user }] });
    expect(res.status).toBe(200);
    const { chunks } = await readOpenAiStream(res);
    const deltas = chunks.flatMap((c: { choices: { delta: { content?: string; reasoning?: string } }[] }) => c.choices.map((ch) => ch.delta));
    expect(deltas.map((d: { reasoning?: string }) => d.reasoning ?? "").join("")).toBe("The user greets; be brief.");
    expect(deltas.map((d: { content?: string }) => d.content ?? "").join("")).toBe("Hello again.");
    const usage = chunks.at(-1).usage;
    expect(usage).toMatchObject({ prompt_tokens: 900, prompt_tokens_details: { cached_tokens: 800 }, completion_tokens_details: { reasoning_tokens: 12 } });
    expect(upstream.requests[0]!.body).toMatchObject({ reasoning: { effort: "low" }, messages: [{ role: "system", content: system }, { role: "user", content: user }] });
    // The request log keeps the cache and reasoning counts and the provider's generation id (written in batches).
    await expect
      .poll(async () => (await db.sql`select cached_tokens, reasoning_tokens, generation_id from request_log where id > ${before} and cached_tokens is not null`)[0], { timeout: 10_000 })
      .toEqual({ cached_tokens: 800, reasoning_tokens: 12, generation_id: "chatcmpl-scripted" });
  });

  it("the openai package sees a 401 as an AuthenticationError", async () => {
    const client = new OpenAI({ baseURL: `${parley.url}/v1`, apiKey: "pk-nope", maxRetries: 0 });
    await expect(client.chat.completions.create({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  const aiProvider = () => createOpenAICompatible({ name: "parley", baseURL: `${parley.url}/v1`, apiKey: API_KEYS[1]!, includeUsage: true });

  it("@ai-sdk/openai-compatible with ai 6, generateText", async () => {
    const result = await generateText({ model: aiProvider()("parley/roleplay"), prompt: "Hello?", maxRetries: 0 });
    expect(result.text).toBe(FULL_TEXT);
    expect(result.finishReason).toBe("stop");
    expect(result.usage.inputTokens).toBe(42);
    expect(result.usage.outputTokens).toBe(7);
    expect(upstream.requests[0]!.body.messages).toEqual([{ role: "user", content: "Hello?" }]);
  });

  it("@ai-sdk/openai-compatible with ai 6, streamText", async () => {
    const result = streamText({ model: aiProvider()(SONNET), system: "Stay in character.", prompt: "Hello?", maxRetries: 0 });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(FULL_TEXT);
    expect(await result.finishReason).toBe("stop");
    expect((await result.usage).outputTokens).toBe(7);
    expect(upstream.requests[0]!.body).toMatchObject({ model: SONNET, messages: [{ role: "system", content: "Stay in character." }, { role: "user", content: "Hello?" }] });
  });
});

describe("secrets", () => {
  it("never puts an upstream key or a client's API key in a log line", () => {
    const all = parley.logs.join("\n");
    expect(all.length).toBeGreaterThan(1000); // the tests above did log
    expect(all).not.toContain(OPENROUTER_KEY);
    for (const k of API_KEYS) expect(all).not.toContain(k);
  });
});

describe("POST /api/enhance", () => {
  const enhance = (c: ReturnType<ParleyProcess["client"]>, body: unknown) =>
    c.fetch("/api/enhance", { method: "POST", body: JSON.stringify(body) });

  it("rewrites a draft with the enhance task, in the scenario's public context, never its system prompt", async () => {
    const c = parley.client();
    const { body: created } = await c.json<{ session: { id: string } }>("/api/sessions", {
      method: "POST",
      body: JSON.stringify({ scenario: "refund-request" }),
    });
    const [scenario] = await db.sql<{ system_prompt: string; description: string }[]>`
      select system_prompt, description from scenarios where slug = 'refund-request'`;
    upstream.enqueue({ kind: "stream", chunks: ["Rewritten: ", "“I would like a refund, please.”"], usage: { prompt_tokens: 80, completion_tokens: 9 } });
    const after = await lastLogId(db.sql);
    const res = await enhance(c, { text: "  refund now  ", sessionId: created.session.id });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: "I would like a refund, please." });
    expect(res.headers.get("x-parley-provider")).toBe("openrouter");
    expect(res.headers.get("x-parley-model")).toBe(HAIKU);
    expect(res.headers.get("x-parley-attempts")).toBe("1");

    const sent = upstream.requests[0]!.body;
    expect(sent).toMatchObject({ temperature: 0.5, max_tokens: 200, top_p: 0.9 });
    expect(sent.messages[0]!.content).toContain(scenario!.description);
    expect(JSON.stringify(sent)).not.toContain(scenario!.system_prompt.slice(0, 60));
    expect(sent.messages[1]!.content).toContain("refund now");

    const row = await logRowAfter(db.sql, after, "enhance");
    expect(row).toMatchObject({ task: "enhance", status: "ok", session_id: created.session.id, prompt_tokens: 80, completion_tokens: 9 });
    expect(row.cost).toBeCloseTo((80 * 0.25 + 9 * 1.25) / 1e6, 12);
  });

  it("answers another client's session as not found, like every other route, and calls no model", async () => {
    const owner = parley.client();
    const { body: created } = await owner.json<{ session: { id: string } }>("/api/sessions", {
      method: "POST",
      body: JSON.stringify({ scenario: "refund-request" }),
    });
    const res = await enhance(parley.client(), { text: "hello", sessionId: created.session.id });
    expect(res.status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it.each([
    ["an empty draft", { text: "   " }, 400, "empty_message"],
    ["a draft over the limit", { text: "x".repeat(8001) }, 400, "message_too_long"],
    ["no text", {}, 400, "invalid_request"],
    ["a malformed session id", { text: "hi", sessionId: "nope" }, 400, "invalid_request"],
  ])("refuses %s with a clear 4xx, calling no model", async (_, body, status, code) => {
    const res = await enhance(parley.client(), body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error).toMatchObject({ code, message: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it("says whether the draft is missing or is not text", async () => {
    for (const [body, said] of [
      [{}, "text is required"],
      [{ text: 5 }, "text must be a string"],
    ] as const) {
      const res = await enhance(parley.client(), body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(said);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it("answers 502 when every model fails, with the attempts in the headers", async () => {
    upstream.forModel(HAIKU, { kind: "status", status: 503 });
    const res = await enhance(parley.client(), { text: "hello" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error).toMatchObject({ code: "upstream_unavailable" });
    expect(res.headers.get("x-parley-attempts")).toBe("1");
  });
});
