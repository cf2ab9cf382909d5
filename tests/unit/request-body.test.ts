import { describe, expect, it } from "vitest";
import { buildChatRequest } from "../../server/gateway/providers/openai-compatible.js";
import type { Candidate, ChatMessage, PromptWindow } from "../../server/gateway/types.js";
import { promptFitter } from "../../server/chat/prompt.js";

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

  it("writes each message as it is when the request is made (a frozen one, and one changed in between)", async () => {
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

/**
 * A conversation's history goes into the body as bytes kept from the last reply (history-wire.ts):
 * whatever the thread did since (grew, was swiped further up, was fitted to a smaller window, has
 * lore inside), the body must be exactly what writing every message anew makes.
 */
describe("the upstream request body of a fitted conversation", () => {
  const app = { url: "http://127.0.0.1", title: "Parley" };
  const window = { contextLength: 1_000_000, maxTokens: 100, tokenizer: "estimate" as const, count: async (xs: string[]) => xs.map((x) => Math.ceil(x.length / 4)) };
  const row = (i: number, tag = "") => ({ id: `m${i}${tag}`, role: (i % 2 ? "assistant" : "user") as "assistant" | "user", content: `line ${i}${tag} “{{char}}” \\ "quoted" 🎭 `.repeat(3) });
  const bodyOf = async (messages: ChatMessage[]) => (await buildChatRequest(candidate("openai_compatible"), undefined, messages, {}, app)).body.toString("utf8");
  /** The same prompt written message by message: a copy of the list carries no mark. */
  const expected = async (messages: ChatMessage[]) => bodyOf(messages.map((m) => ({ ...m })));
  const sent = async (history: ReturnType<typeof row>[], plan: Parameters<typeof promptFitter>[0] = "You are {{char}}.", w: PromptWindow = window) => {
    const fitted = await promptFitter(plan, history, names)(w);
    if (!("messages" in fitted)) throw new Error("did not fit");
    return { messages: fitted.messages, body: await bodyOf(fitted.messages) };
  };
  const names = { user: "Ann", char: "Bob" };

  it("is the same JSON as writing each message, as the thread grows, branches and is trimmed", async () => {
    const thread = Array.from({ length: 900 }, (_, i) => row(i));
    const first = await sent(thread);
    expect(first.body).toBe(await expected(first.messages));
    expect(JSON.parse(first.body).messages).toHaveLength(901);

    // The next replies: two more messages each, the rows before them the same objects.
    const grown = [...thread, row(900), row(901)];
    const second = await sent(grown);
    expect(second.body).toBe(await expected(second.messages));
    const more = [...grown, row(902), row(903)];
    expect((await sent(more)).body).toBe(await expected((await sent(more)).messages));

    // A swipe further up: from message 500 on, another branch; then back to the first one.
    const branch = [...thread.slice(0, 500), row(500, "b"), row(501, "b")];
    const swiped = await sent(branch);
    expect(swiped.body).toBe(await expected(swiped.messages));
    expect(JSON.parse(swiped.body).messages.at(-1).content).toContain("line 501b");
    const back = await sent(more);
    expect(back.body).toBe(await expected(back.messages));

    // A window that slides down as the thread grows (its oldest messages read no more): the bytes
    // kept are found from wherever the history now starts, and moved up when most have slid out.
    let sliding = [...more];
    for (let step = 1; step <= 6; step++) {
      sliding = [...sliding.slice(150), row(903 + 2 * step), row(904 + 2 * step)];
      const slid = await sent(sliding);
      expect(slid.body).toBe(await expected(slid.messages));
      expect(JSON.parse(slid.body).messages[1].content).toContain(`line ${150 * step} `);
    }

    // A smaller window: the oldest turns left out, the stretch starts further down.
    const small = { ...window, contextLength: 5_000 };
    const trimmed = await sent(more, "You are {{char}}.", small);
    expect(JSON.parse(trimmed.body).messages.length).toBeLessThan(300);
    expect(trimmed.body).toBe(await expected(trimmed.messages));
  });

  it("writes lore inside the history, examples and instructions around it, in their places", async () => {
    const thread = Array.from({ length: 120 }, (_, i) => row(i));
    const plan = {
      system: "You are {{char}}.",
      examples: ["<START>\nBob: hello"],
      postHistory: "Stay in character.",
      atDepth: () => [{ depth: 4, role: "system" as const, content: "The tavern is on fire." }],
    };
    const fitted = await sent(thread, plan);
    expect(fitted.body).toBe(await expected(fitted.messages));
    const messages = JSON.parse(fitted.body).messages as { content: string }[];
    expect(messages.at(-6)!.content).toBe("The tavern is on fire.");
    expect(messages.at(-1)!.content).toBe("Stay in character.");

    // Without lore: the system prompt, the example, the whole history, the instructions.
    const plain = await sent(thread, { ...plan, atDepth: undefined });
    expect(plain.body).toBe(await expected(plain.messages));
    const order = (JSON.parse(plain.body).messages as { content: string }[]).map((m) => m.content);
    // The plan's own texts come resolved by its maker (character-prompt.ts); the history's turns are resolved here.
    expect(order.slice(0, 2)).toEqual(["You are {{char}}.", "<START>\nBob: hello"]);
    expect(order[2]).toContain("line 0 ");
    expect(order.at(-2)).toContain("line 119 ");
    expect(order.at(-1)).toBe("Stay in character.");
    expect(order).toHaveLength(2 + 120 + 1);
  });
});
