import { describe, expect, it } from "vitest";
import { buildPrompt } from "../../server/chat/prompt.js";

describe("buildPrompt", () => {
  it("puts the system prompt first, then the history in order", () => {
    const out = buildPrompt("You are Dana.", [
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]);
    expect(out).toEqual([
      { role: "system", content: "You are Dana." },
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]);
  });

  it("leaves out turns with no text, such as a reply stopped before its first word", () => {
    const out = buildPrompt("S", [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "  " },
      { role: "user", content: "Again" },
    ]);
    expect(out.map((m) => m.content)).toEqual(["S", "Hi", "Again"]);
  });
});
