import { describe, expect, it } from "vitest";
import { promptFitter } from "../../server/chat/prompt.js";

describe("the whole prompt", () => {
  it("puts the system prompt first, then the history in order", () => {
    const out = promptFitter("You are Dana.", [
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]).all();
    expect(out).toEqual([
      { role: "system", content: "You are Dana." },
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]);
  });

  it("leaves out turns with no text, such as a reply stopped before its first word, and resolves macros", () => {
    const out = promptFitter(
      "S",
      [
        { role: "user", content: "Hi {{char}}" },
        { role: "assistant", content: "  " },
        { role: "user", content: "Again, {{user}}" },
      ],
      { user: "Sam", char: "Dana" },
    ).all();
    expect(out.map((m) => m.content)).toEqual(["S", "Hi Dana", "Again, Sam"]);
  });
});
