import { describe, expect, it } from "vitest";
import { buildChatRequest } from "../../server/gateway/providers/openai-compatible.js";
import type { Candidate } from "../../server/gateway/types.js";

const candidate = (kind: "openrouter" | "openai_compatible"): Candidate => ({
  provider: {
    id: "p1", name: "up", displayName: "up", kind, baseUrl: "http://127.0.0.1:1/v1", authScheme: "bearer", authHeaderName: "Authorization",
    secretName: "KEY", isActive: true, extraHeaders: {}, connectTimeoutMs: null, firstByteTimeoutMs: null, idleTimeoutMs: null,
    routingPreferences: kind === "openrouter" ? { sort: "latency" } : null, failoverRules: {},
  },
  model: {
    id: "m1", providerId: "p1", modelKey: "vendor/model", displayName: "m", task: "roleplay", isActive: true, isDefault: false, priority: 100,
    inputPricePerMtok: null, outputPricePerMtok: null, contextLength: null, acceptsImages: false, weight: null, tokenizer: null, paramOverrides: {},
  },
});

/** The body is written message by message as bytes (a long prompt never becomes one string): it must be the same JSON. */
describe("the upstream request body", () => {
  it("is the JSON of the model, the stream options, the parameters, the provider's extras and every message", async () => {
    const messages = [
      { role: "system", content: "Quotes \" and backslashes \\ and newlines\n stay; so do ünïcödé and emoji 🎭 and \u2028" },
      { role: "user", content: [{ type: "text", text: "parts", cache_control: { type: "ephemeral" } }] },
      { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{\"a\":1}" } }] },
    ];
    for (const kind of ["openrouter", "openai_compatible"] as const) {
      const { body } = await buildChatRequest(candidate(kind), "sk", messages, { temperature: 0.7, max_tokens: 100 }, { url: "http://127.0.0.1", title: "Parley" });
      const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      expect(parsed.messages).toEqual(messages);
      expect(parsed).toMatchObject({ model: "vendor/model", stream: true, stream_options: { include_usage: true }, temperature: 0.7, max_tokens: 100 });
      if (kind === "openrouter") expect(parsed.provider).toEqual({ sort: "latency" });
    }
  });

  it("makes a frozen message's JSON once and a message that is not frozen anew each time", async () => {
    const frozen = Object.freeze({ role: "user", content: "the same words" });
    const open = { role: "assistant", content: "first" };
    const send = async () => JSON.parse((await buildChatRequest(candidate("openai_compatible"), undefined, [frozen, open, frozen], {}, { url: "http://127.0.0.1", title: "Parley" })).body.toString("utf8")) as { messages: unknown[] };
    expect((await send()).messages).toEqual([frozen, { role: "assistant", content: "first" }, frozen]);
    open.content = "changed";
    expect((await send()).messages).toEqual([frozen, { role: "assistant", content: "changed" }, frozen]);
  });

  it("holds no messages as an empty array, and a long prompt whole", async () => {
    const none = await buildChatRequest(candidate("openai_compatible"), undefined, [], {}, { url: "http://127.0.0.1", title: "Parley" });
    expect(JSON.parse(none.body.toString("utf8"))).toMatchObject({ messages: [] });
    const long = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `line ${i} `.repeat(50) }));
    const { body } = await buildChatRequest(candidate("openai_compatible"), undefined, long, {}, { url: "http://127.0.0.1", title: "Parley" });
    expect((JSON.parse(body.toString("utf8")) as { messages: unknown[] }).messages).toEqual(long);
  });
});
