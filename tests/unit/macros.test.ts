import { describe, expect, it } from "vitest";
import { resolveMacros } from "../../contracts/macros.js";
import { macroNames, systemMessage } from "../../server/chat/prompt.js";

describe("macros", () => {
  const names = { user: "Sam", char: "Dana" };
  it("resolves {{user}} and {{char}} in any case and with spaces, and the older <USER>, <BOT>, <CHAR>", () => {
    expect(resolveMacros("{{user}} meets {{char}}; {{ USER }} and {{Char}}", names)).toBe("Sam meets Dana; Sam and Dana");
    expect(resolveMacros("<USER> to <bot>, <Char>", names)).toBe("Sam to Dana, Dana");
  });
  it("leaves other braces and unknown macros alone", () => {
    expect(resolveMacros("{{random}} {user} {{ user", names)).toBe("{{random}} {user} {{ user");
  });
  it("names the person User without a persona, and puts the persona's description after the system prompt", () => {
    expect(macroNames(null, "Dana")).toEqual({ user: "User", char: "Dana" });
    const n = macroNames({ name: "Sam", description: "A nurse." }, "Dana");
    expect(systemMessage("You are {{char}}.", { name: "Sam", description: " A nurse. " }, n)).toBe(
      "You are Dana.\n\nAbout Sam, the person you are talking with: A nurse.",
    );
    expect(systemMessage("You are {{char}}.", { name: "Sam", description: "" }, n)).toBe("You are Dana.");
  });
});
