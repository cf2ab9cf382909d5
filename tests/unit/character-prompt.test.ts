import { describe, expect, it } from "vitest";
import { cardDataSchema } from "../../contracts/character-card.js";
import { lorebookSchema, loreEntrySchema } from "../../contracts/lorebook.js";
import { characterNameOf, characterPlan, exampleBlocks } from "../../server/chat/character-prompt.js";
import { promptFitter } from "../../server/chat/prompt.js";
import type { PromptWindow } from "../../server/gateway/types.js";

const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
const window = (contextLength: number): PromptWindow => ({ contextLength, maxTokens: 0, tokenizer: "estimate", count: async (texts) => texts.map(words) });

const card = cardDataSchema.parse({
  name: "Captain Mira Holt",
  nickname: "Mira",
  description: "{{char}} commands the airship Kestrel.",
  personality: "blunt, loyal",
  scenario: "{{user}} has just boarded.",
  first_mes: "Welcome aboard.",
  mes_example: "<START>\n{{user}}: Where to?\n{{char}}: North.\n<start>\n{{user}}: Why?\n{{char}}: Storms.",
  system_prompt: "{{original}} Stay in character.",
  post_history_instructions: "Answer in under 50 words.",
  creator_notes: "SECRET NOTES FOR HUMANS",
});
const lorebooks = [
  lorebookSchema.parse({
    entries: [
      loreEntrySchema.parse({ keys: ["harbour"], content: "LORE-BEFORE: the harbour is closed." }),
      loreEntrySchema.parse({ keys: ["harbour"], content: "LORE-AFTER: gulls everywhere.", position: { at: "after_char" } }),
      loreEntrySchema.parse({ keys: ["harbour"], content: "LORE-DEPTH: {{char}} remembers the fire.", position: { at: "depth", depth: 1, role: "system" } }),
      loreEntrySchema.parse({ keys: ["dragon"], content: "LORE-UNUSED" }),
    ],
  }),
];
const history = [
  { id: "m1", role: "assistant" as const, content: "Welcome aboard." },
  { id: "m2", role: "user" as const, content: "Is the harbour open?" },
];
const names = { user: "Sam", char: characterNameOf(card) };
const plan = () =>
  characterPlan({
    card,
    defaultSystemPrompt: "You are {{char}}.",
    persona: { name: "Sam", description: "A courier." },
    names,
    lorebooks,
    recent: history,
    estimateTokens: words,
  });

describe("a character card's prompt", () => {
  it("follows the documented order, with macros resolved and the creator's notes left out", async () => {
    const p = plan();
    const w = window(8192);
    const fitter = promptFitter(p, history, names);
    const out = await fitter(w);
    const fired = p.loreFor(w).fired.map((f) => f.key);
    if (!("messages" in out)) throw new Error("did not fit");
    const [system, ...rest] = out.messages;
    expect(system!.role).toBe("system");
    const s = system!.content;
    const at = (t: string) => s.indexOf(t);
    expect(s.startsWith("You are Mira. Stay in character.")).toBe(true);
    expect(at("LORE-BEFORE")).toBeLessThan(at("Mira commands the airship"));
    expect(at("Mira commands the airship")).toBeLessThan(at("Mira's personality: blunt, loyal"));
    expect(at("Mira's personality")).toBeLessThan(at("Scenario: Sam has just boarded."));
    expect(at("Scenario:")).toBeLessThan(at("LORE-AFTER"));
    expect(at("LORE-AFTER")).toBeLessThan(at("About Sam, the person you are talking with: A courier."));
    expect(JSON.stringify(out.messages)).not.toContain("SECRET NOTES");
    expect(JSON.stringify(out.messages)).not.toContain("LORE-UNUSED");
    expect(rest.map((m) => [m.role, m.content.slice(0, 30)])).toEqual([
      ["system", "Example of how Mira talks:\nSam"],
      ["system", "Example of how Mira talks:\nSam"],
      ["assistant", "Welcome aboard."],
      ["system", "LORE-DEPTH: Mira remembers the"],
      ["user", "Is the harbour open?"],
      ["system", "Answer in under 50 words."],
    ]);
    expect(fired).toContain("harbour");
    // What "what the model saw" keeps: the same prompt, part by part, the history by reference.
    const sent = fitter.sent()!;
    expect(sent.parts.map((x) => x.kind)).toEqual(["system", "example", "example", "history", "lore", "history", "post_history"]);
    expect(sent.parts.filter((x) => x.kind === "history").map((x) => ("messageId" in x ? x.messageId : ""))).toEqual(["m1", "m2"]);
    expect(sent.parts.find((x) => x.kind === "lore")).toMatchObject({ depth: 1, role: "system" });
    expect(sent).toMatchObject({ historyLeftOut: 0, examplesDropped: 0 });
  });

  it("drops example dialogue, the last block first, before any turn of the history", async () => {
    const full = await promptFitter(plan(), history, names)(window(8192));
    const need = (m: { content: string }[]) => m.reduce((n, x) => n + words(x.content) + 6, 0) + 64;
    if (!("messages" in full)) throw new Error("did not fit");
    const tight = await promptFitter(plan(), history, names)(window(need(full.messages) - 5));
    if (!("messages" in tight)) throw new Error("did not fit");
    expect(tight.messages.filter((m) => m.content.startsWith("Example of")).length).toBe(1);
    expect(tight.messages.some((m) => m.content === "Is the harbour open?" && m.role === "user")).toBe(true);
    expect(tight.messages.some((m) => m.content === "Welcome aboard.")).toBe(true);
  });

  it("uses Parley's default when the card has no system prompt of its own, and the name when it has no nickname", () => {
    const plain = cardDataSchema.parse({ name: "Bo", description: "A dog." });
    expect(characterNameOf(plain)).toBe("Bo");
    const p = characterPlan({ card: plain, defaultSystemPrompt: "Be {{char}}.", persona: null, names: { user: "You", char: "Bo" }, lorebooks: [], recent: [], estimateTokens: words });
    expect(p.system).toBe("Be Bo.\n\nA dog.");
    expect(p.examples).toEqual([]);
    expect(p.postHistory).toBeUndefined();
  });

  it("splits example dialogue on <START>, in any case, leaving empty blocks out", () => {
    expect(exampleBlocks("<START>\na\n<start>\n\n<Start>b")).toEqual(["a", "b"]);
    expect(exampleBlocks("")).toEqual([]);
  });
});
