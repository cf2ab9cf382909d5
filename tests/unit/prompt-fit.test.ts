import { describe, expect, it } from "vitest";
import { defaultTokenizer, type TokenizerName } from "../../contracts/tokenizers.js";
import { compactHistory, MARGIN_TOKENS, MESSAGE_OVERHEAD, promptFitter } from "../../server/chat/prompt.js";
import { estimateTokens, TokenCounter } from "../../server/gateway/token-counter.js";
import type { PromptWindow } from "../../server/gateway/types.js";

const counter = new TokenCounter();
/** A window counted by a real tokenizer, with the number of texts each call was asked to count. */
function windowOf(contextLength: number, maxTokens: number, tokenizer: TokenizerName = "o200k") {
  const calls: number[] = [];
  const w: PromptWindow = {
    contextLength,
    maxTokens,
    tokenizer,
    count: (texts) => {
      calls.push(texts.length);
      return counter.count(tokenizer, texts);
    },
  };
  return { w, calls };
}

const turn = (i: number, role: "user" | "assistant", content: string) => ({ id: `m${i}`, role, content });
const prompt = (p: Awaited<ReturnType<ReturnType<typeof promptFitter>>>) => {
  if (!("messages" in p)) throw new Error(`expected a prompt, got ${JSON.stringify(p)}`);
  return p.messages;
};

describe("token counts from the model family's tokenizer", () => {
  it("counts as the tokenizer packages do, and estimates (on the safe side) only where none exists", async () => {
    // Reference counts of the families' own tokenizers for a short English phrase and Japanese text.
    expect(await counter.count("o200k", ["hello world", "日本語のテキスト"])).toEqual([2, 6]);
    expect(await counter.count("cl100k", ["hello world", "日本語のテキスト"])).toEqual([2, 8]);
    expect(await counter.count("llama3", ["hello world", "Tokenization is fun!"])).toEqual([2, 5]);
    expect(await counter.count("qwen2", ["hello world", "Tokenization is fun!"])).toEqual([2, 5]);
    expect(await counter.count("mistral", ["hello world", "Tokenization is fun!"])).toEqual([2, 5]);
    expect(counter.isExact("o200k")).toBe(true);
    expect(counter.isExact("claude")).toBe(false);
    // The estimate counts a token for each non-ASCII character: Japanese is not undercounted.
    expect(estimateTokens("日本語のテキスト")).toBeGreaterThanOrEqual(8);
    // Exactly: ASCII at 3.5 characters a token, each other UTF-16 unit a token (an emoji is two).
    expect([estimateTokens("hello world"), estimateTokens("héllo"), estimateTokens("日本語のテキスト"), estimateTokens("a😀"), estimateTokens("")]).toEqual([4, 3, 8, 3, 0]);
    expect(await counter.count("claude", ["hello world"])).toEqual([estimateTokens("hello world")]);
  });

  it("picks a tokenizer from the model key when the row names none", () => {
    expect(defaultTokenizer("openai/gpt-4o-mini", "openrouter")).toBe("o200k");
    expect(defaultTokenizer("openai/gpt-4-turbo", "openrouter")).toBe("cl100k");
    expect(defaultTokenizer("meta-llama/llama-3.1-8b-instruct", "openrouter")).toBe("llama3");
    expect(defaultTokenizer("qwen/qwen-2.5-72b-instruct", "openrouter")).toBe("qwen2");
    expect(defaultTokenizer("mistralai/mixtral-8x7b-instruct", "openrouter")).toBe("mistral");
    expect(defaultTokenizer("anthropic/claude-3-haiku", "openrouter")).toBe("claude");
    expect(defaultTokenizer("local", "chat_worker")).toBe("worker");
    expect(defaultTokenizer("some/new-model", "openai_compatible")).toBe("estimate");
  });
});

describe("fitting a prompt to a model's window", () => {
  const system = "You are Dana, an upset customer.";
  const history = () => Array.from({ length: 40 }, (_, i) => turn(i, i % 2 ? "user" : "assistant", `message ${i} `.repeat(20)));

  it("keeps the system prompt and the newest turns that fit by the tokenizer's count, leaving older turns out whole", async () => {
    const h = history();
    const { w } = windowOf(1200, 300);
    const messages = prompt(await promptFitter(system, h)(w));
    expect(messages[0]).toEqual({ role: "system", content: system });
    expect(messages.at(-1)!.content).toBe(h.at(-1)!.content);
    const kept = messages.slice(1);
    expect(kept.length).toBeGreaterThan(1);
    expect(kept.length).toBeLessThan(h.length);
    expect(kept).toEqual(h.slice(h.length - kept.length).map(({ role, content }) => ({ role, content })));
    // Within the budget by the tokenizer's own count; one more turn would not have fitted.
    const tokens = await counter.count("o200k", messages.map((m) => m.content));
    const used = tokens.reduce((n, t) => n + t + MESSAGE_OVERHEAD, 0);
    const budget = 1200 - 300 - MARGIN_TOKENS;
    expect(used).toBeLessThanOrEqual(budget);
    const [next] = await counter.count("o200k", [h[h.length - kept.length - 1]!.content]);
    expect(used + next! + MESSAGE_OVERHEAD).toBeGreaterThan(budget);
  });

  it("gives a larger window more history, and counts each message once per tokenizer (the counts are kept for storing)", async () => {
    const h = history();
    const fit = promptFitter(system, h);
    const small = windowOf(1200, 300);
    const large = windowOf(8000, 300);
    const a = prompt(await fit(small.w));
    const b = prompt(await fit(large.w));
    expect(b.length).toBeGreaterThan(a.length);
    // The second window re-used the counts the first took: it counted only the older turns it reached.
    const countedTurns = (calls: number[]) => calls.slice(1).reduce((n, c) => n + c, 0);
    expect(countedTurns(large.calls)).toBe(b.length - 1 - countedTurns(small.calls));
    expect(fit.fresh().map((f) => f.id)).toEqual(expect.arrayContaining(["m39", "m38"]));
    expect(h.at(-1)!).toHaveProperty(["tokenCounts", "o200k"]);
    // Counts already stored with the messages are not taken again.
    const again = windowOf(8000, 300);
    await promptFitter(system, h)(again.w);
    expect(countedTurns(again.calls)).toBe(0);
    // Estimates are not stored: they cost nothing to take again.
    const est = promptFitter(system, history());
    await est(windowOf(8000, 300, "claude").w);
    expect(est.fresh()).toEqual([]);
  });

  it("hands the next reply the same frozen turns for the same messages (their JSON is made once), resolved anew for other names", async () => {
    const h = [turn(0, "assistant", "Hello {{user}}, I am {{char}}."), turn(1, "user", "Hi.")];
    const names = { user: "Ann", char: "Dana" };
    const first = prompt(await promptFitter(system, h, names)(windowOf(8000, 300).w));
    const next = prompt(await promptFitter(system, h, names)(windowOf(8000, 300).w));
    expect(first[1]).toEqual({ role: "assistant", content: "Hello Ann, I am Dana." });
    expect(next[1]).toBe(first[1]);
    expect(Object.isFrozen(first[1])).toBe(true);
    const renamed = prompt(await promptFitter(system, h, { user: "Bo", char: "Dana" })(windowOf(8000, 300).w));
    expect(renamed[1]).toEqual({ role: "assistant", content: "Hello Bo, I am Dana." });
    // Another row with the same text is another message.
    const copy = prompt(await promptFitter(system, h.map((m) => ({ ...m })), names)(windowOf(8000, 300).w));
    expect(copy[1]).not.toBe(first[1]);
    expect(copy[1]).toEqual(first[1]);
  });

  it("says where the model's memory begins: the oldest history message the fitted prompt held, whatever went around it", async () => {
    const h = [turn(0, "assistant", "   "), ...Array.from({ length: 30 }, (_, i) => turn(i + 1, i % 2 ? "assistant" : "user", `message ${i} `.repeat(20)))];
    const plan = { system, examples: ["<START>\nDana: Hello."], postHistory: "Stay in character.", atDepth: () => [{ depth: 2, role: "system" as const, content: "Lore line." }] };
    const fit = promptFitter(plan, h);
    const messages = prompt(await fit(windowOf(1500, 300).w));
    const firstTurn = messages.find((m) => h.some((t) => t.content === m.content))!;
    expect(fit.oldestSent()).toBe(h.find((t) => t.content === firstTurn.content)!.id);
    // Everything fits a large window: the memory begins at the first message that has text.
    const all = promptFitter(plan, h);
    await all(windowOf(100_000, 300).w);
    expect(all.oldestSent()).toBe("m1");
    expect(promptFitter(system, h).oldestSent()).toBeNull();
  });

  it("keeps a report's history as runs of consecutive messages by their ends, a single message as itself", () => {
    const h = (id: string) => ({ kind: "history" as const, role: "user" as const, messageId: id });
    const sys = { kind: "system" as const, role: "system" as const, content: "S" };
    const lore = { kind: "lore" as const, role: "system" as const, content: "L", depth: 1 };
    expect(compactHistory([sys, h("a"), h("b"), h("c"), lore, h("d"), { kind: "post_history", role: "system", content: "P" }])).toEqual([
      sys,
      { kind: "history_run", fromId: "a", toId: "c", count: 3 },
      lore,
      h("d"),
      { kind: "post_history", role: "system", content: "P" },
    ]);
    expect(compactHistory([])).toEqual([]);
  });

  it("says how much is needed when the newest message alone does not fit", async () => {
    const long = promptFitter(system, [turn(0, "user", "lorem ipsum ".repeat(2000))]);
    const answer = await long(windowOf(2048, 512).w);
    expect(answer).toMatchObject({ tooLong: { budgetTokens: 2048 - 512 - MARGIN_TOKENS, neededTokens: expect.any(Number) } });
    if (!("tooLong" in answer)) throw new Error("expected tooLong");
    expect(answer.tooLong.neededTokens).toBeGreaterThan(2048 - 512 - MARGIN_TOKENS);
  });
});

/**
 * A thread's next reply takes the history rows its last reply took as they were (the same row
 * objects) instead of going over each again: what it sends must be what a fitter that never saw
 * the thread sends, however the thread moved in between.
 */
describe("a thread's history from one reply to the next", () => {
  const w: PromptWindow = { contextLength: 100_000, maxTokens: 100, tokenizer: "estimate", count: async (xs) => xs.map((x) => Math.ceil(x.length / 3)) };
  const row = (i: number, tag = "") => ({ id: `t${i}${tag}`, role: (i % 2 ? "assistant" : "user") as "assistant" | "user", content: i % 7 === 3 ? "  " : `{{user}} and {{char}}, line ${i}${tag}` });
  const names = { user: "Ann", char: "Bob" };
  const fresh = async (history: ReturnType<typeof row>[], n = names) => prompt(await promptFitter("You are {{char}}.", history, n)(w));
  const threaded = async (history: ReturnType<typeof row>[], n = names) => prompt(await promptFitter("You are {{char}}.", history, n, "thread-1")(w));

  it("is what a fitter new to the thread sends, as it grows, slides, branches and is renamed", async () => {
    let history = Array.from({ length: 300 }, (_, i) => row(i));
    expect(await threaded(history)).toEqual(await fresh(history));
    // Grows by a message and its answer (blank rows left out as before).
    history = [...history, row(300), row(301), row(302), row(303)];
    expect(await threaded(history)).toEqual(await fresh(history));
    // Slides: the oldest rows read no more.
    history = [...history.slice(40), row(304), row(305)];
    const slid = await threaded(history);
    expect(slid).toEqual(await fresh(history));
    expect(slid[1]!.content).toBe("Ann and Bob, line 40");
    // A branch further up: from row 200 on, other rows.
    history = [...history.slice(0, 160), row(200, "b"), row(201, "b")];
    const branched = await threaded(history);
    expect(branched).toEqual(await fresh(history));
    expect(branched.at(-1)!.content).toBe("Ann and Bob, line 201b");
    // Another persona name: every turn resolved anew.
    const renamed = await threaded(history, { user: "Cy", char: "Bob" });
    expect(renamed).toEqual(await fresh(history, { user: "Cy", char: "Bob" }));
    expect(renamed.at(-1)!.content).toBe("Cy and Bob, line 201b");
    // A thread read anew (other row objects with the same contents).
    const reread = history.map((r) => ({ ...r }));
    expect(await threaded(reread)).toEqual(await fresh(reread));
  });
});
