import { describe, expect, it } from "vitest";
import { promptFitter } from "../../server/chat/prompt.js";
import type { PromptWindow } from "../../server/gateway/types.js";

/** What a fitter gives a window that holds everything: the whole prompt, in order. */
async function whole(fit: ReturnType<typeof promptFitter>) {
  const roomy: PromptWindow = { contextLength: 1_000_000, maxTokens: 0, tokenizer: "estimate", count: async (texts) => texts.map((t) => t.length) };
  const fitted = await fit(roomy);
  if (!("messages" in fitted)) throw new Error("a roomy window held nothing");
  return fitted.messages;
}

describe("the whole prompt", () => {
  it("puts the system prompt first, then the history in order", async () => {
    const out = await whole(promptFitter("You are Dana.", [
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]));
    expect(out).toEqual([
      { role: "system", content: "You are Dana." },
      { role: "assistant", content: "Opening line" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Refund?" },
    ]);
  });

  it("leaves out turns with no text, such as a reply stopped before its first word, and resolves macros", async () => {
    const out = await whole(promptFitter(
      "S",
      [
        { role: "user", content: "Hi {{char}}" },
        { role: "assistant", content: "  " },
        { role: "user", content: "Again, {{user}}" },
      ],
      { user: "Sam", char: "Dana" },
    ));
    expect(out.map((m) => m.content)).toEqual(["S", "Hi Dana", "Again, Sam"]);
  });
});
