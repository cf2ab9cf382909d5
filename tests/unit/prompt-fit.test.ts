import { describe, expect, it } from "vitest";
import { estimatePromptTokens, promptFitter } from "../../server/chat/prompt.js";

const turn = (role: "user" | "assistant", content: string) => ({ role, content });

describe("fitting a prompt to a model's window", () => {
  const system = "You are Dana, an upset customer.";
  const history = Array.from({ length: 40 }, (_, i) => turn(i % 2 ? "user" : "assistant", `message ${i} `.repeat(20)));
  const fit = promptFitter(system, history);

  it("keeps the system prompt and the newest turns that fit, leaving older turns out whole", () => {
    const small = fit({ contextLength: 1200, maxTokens: 300 });
    if (!("messages" in small)) throw new Error("expected a prompt");
    expect(small.messages[0]).toEqual({ role: "system", content: system });
    expect(small.messages.at(-1)!.content).toBe(history.at(-1)!.content);
    const kept = small.messages.slice(1);
    expect(kept.length).toBeGreaterThan(1);
    expect(kept.length).toBeLessThan(history.length);
    // The newest, contiguous, and within the budget.
    expect(kept).toEqual(history.slice(history.length - kept.length));
    const used = small.messages.reduce((n, m) => n + estimatePromptTokens(m.content), 0);
    expect(used).toBeLessThanOrEqual(1200 - 300);
    // One more turn would not have fitted.
    expect(used + estimatePromptTokens(history[history.length - kept.length - 1]!.content)).toBeGreaterThan(1200 - 300 - 64);
  });

  it("gives a larger window more history, an unknown window all of it", () => {
    const small = fit({ contextLength: 1200, maxTokens: 300 });
    const large = fit({ contextLength: 8000, maxTokens: 300 });
    const unknown = fit({ contextLength: null, maxTokens: 300 });
    if (!("messages" in small) || !("messages" in large) || !("messages" in unknown)) throw new Error("expected prompts");
    expect(large.messages.length).toBeGreaterThan(small.messages.length);
    expect(unknown.messages).toHaveLength(history.length + 1);
  });

  it("says how much is needed when the newest message alone does not fit", () => {
    const long = promptFitter(system, [turn("user", "x".repeat(10_000))]);
    const answer = long({ contextLength: 2048, maxTokens: 512 });
    expect(answer).toEqual({ tooLong: { budgetTokens: 2048 - 512 - 64, neededTokens: estimatePromptTokens(system) + estimatePromptTokens("x".repeat(10_000)) } });
  });
});
