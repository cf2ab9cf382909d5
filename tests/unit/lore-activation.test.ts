import { describe, expect, it } from "vitest";
import { lorebookSchema, loreEntrySchema, type LoreEntry } from "../../contracts/lorebook.js";
import { activateLore, DEFAULT_BUDGET_SHARE, MAX_RECURSION_PASSES } from "../../server/chat/lore-activation.js";

const entry = (name: string, fields: Partial<LoreEntry> & { keys?: string[] }) => loreEntrySchema.parse({ name, keys: [], content: `${name}.`, ...fields });
const book = (entries: LoreEntry[], fields: Record<string, unknown> = {}) => lorebookSchema.parse({ entries, ...fields });
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const run = (b: ReturnType<typeof book>, messages: string[], contextTokens = 8192) =>
  activateLore(b, { messages: messages.map((content) => ({ content })), contextTokens, countTokens: words });
const names = (r: ReturnType<typeof run>) => r.active.map((a) => a.entry.name);

describe("which lorebook entries fire", () => {
  const cases: [string, LoreEntry, string[], boolean][] = [
    ["a primary key, any case", entry("castle", { keys: ["Castle"] }), ["We rode to the castle gate."], true],
    ["no key in the messages", entry("castle", { keys: ["castle"] }), ["We rode home."], false],
    ["case-sensitive: the case differs", entry("castle", { keys: ["Castle"], caseSensitive: true }), ["the castle"], false],
    ["case-sensitive: the case agrees", entry("castle", { keys: ["Castle"], caseSensitive: true }), ["the Castle"], true],
    ["substring by default", entry("cat", { keys: ["cat"] }), ["a category"], true],
    ["whole words: inside a longer word", entry("cat", { keys: ["cat"], matchWholeWords: true }), ["a category"], false],
    ["whole words: on its own", entry("cat", { keys: ["cat"], matchWholeWords: true }), ["the cat, asleep"], true],
    ["whole words: other scripts", entry("кот", { keys: ["кот"], matchWholeWords: true }), ["котик спит"], false],
    ["whole words: a key of several words matches as text", entry("old", { keys: ["old town"], matchWholeWords: true }), ["the old towns"], true],
    ["a /regex/ key", entry("dragon", { keys: ["/drag(on|ons)\\b/i"] }), ["Two DRAGONS circled."], true],
    ["an invalid /regex/ matches nothing", entry("bad", { keys: ["/(unclosed/"] }), ["(unclosed"], false],
    ["use_regex: a bare pattern", entry("num", { keys: ["\\d{4}"], useRegex: true }), ["in 1492"], true],
    ["an empty key matches nothing", entry("empty", { keys: ["  "] }), ["anything"], false],
    ["constant: always", entry("rules", { constant: true }), ["nothing related"], true],
    ["disabled: never, keys or not", entry("off", { keys: ["castle"], enabled: false, constant: true }), ["castle"], false],
    ["selective AND ANY: one secondary", entry("s", { keys: ["king"], selective: true, secondaryKeys: ["crown", "throne"] }), ["the king's throne"], true],
    ["selective AND ANY: none", entry("s", { keys: ["king"], selective: true, secondaryKeys: ["crown", "throne"] }), ["the king"], false],
    ["selective AND ALL: all", entry("s", { keys: ["king"], selective: true, selectiveLogic: "and_all", secondaryKeys: ["crown", "throne"] }), ["king, crown, throne"], true],
    ["selective AND ALL: one missing", entry("s", { keys: ["king"], selective: true, selectiveLogic: "and_all", secondaryKeys: ["crown", "throne"] }), ["king, crown"], false],
    ["selective NOT ANY: none", entry("s", { keys: ["king"], selective: true, selectiveLogic: "not_any", secondaryKeys: ["dead"] }), ["the king lives"], true],
    ["selective NOT ANY: one", entry("s", { keys: ["king"], selective: true, selectiveLogic: "not_any", secondaryKeys: ["dead"] }), ["the king is dead"], false],
    ["selective NOT ALL: some", entry("s", { keys: ["king"], selective: true, selectiveLogic: "not_all", secondaryKeys: ["old", "ill"] }), ["the old king"], true],
    ["selective NOT ALL: all", entry("s", { keys: ["king"], selective: true, selectiveLogic: "not_all", secondaryKeys: ["old", "ill"] }), ["the old, ill king"], false],
    ["not selective: secondary keys are ignored", entry("s", { keys: ["king"], secondaryKeys: ["never"] }), ["the king"], true],
  ];
  it.each(cases)("%s", (_, e, messages, fires) => {
    expect(names(run(book([e]), messages))).toEqual(fires ? [e.name] : []);
  });

  it("searches the newest scan_depth messages: the entry's, else the book's, else two", () => {
    const old = ["the castle", "later", "later still"];
    expect(names(run(book([entry("c", { keys: ["castle"] })]), old))).toEqual([]);
    expect(names(run(book([entry("c", { keys: ["castle"] })], { scanDepth: 3 }), old))).toEqual(["c"]);
    expect(names(run(book([entry("c", { keys: ["castle"], scanDepth: 3 })], { scanDepth: 1 }), old))).toEqual(["c"]);
    expect(names(run(book([entry("c", { keys: ["castle"] })]), ["the castle", "later"]))).toEqual(["c"]);
  });

  it("names the key that matched, and takes each entry once however many keys match", () => {
    const r = run(book([entry("c", { keys: ["gate", "castle"] })]), ["castle gate, castle"]);
    expect(r.active).toHaveLength(1);
    expect(r.active[0]).toMatchObject({ key: "gate", why: "key" });
  });

  it("with recursive scanning, activated content activates more, up to a bound; prevent/exclude recursion hold", () => {
    const chain = Array.from({ length: MAX_RECURSION_PASSES + 2 }, (_, i) => entry(`e${i}`, { keys: [`k${i}`], content: `see k${i + 1}` }));
    const flat = run(book(chain), ["k0"]);
    expect(names(flat)).toEqual(["e0"]);
    const deep = run(book(chain, { recursiveScanning: true }), ["k0"]);
    expect(names(deep)).toEqual(chain.slice(0, MAX_RECURSION_PASSES).map((e) => e.name));
    expect(deep.active.slice(1).every((a) => a.why === "recursion")).toBe(true);

    const prevents = [entry("a", { keys: ["k0"], content: "mentions b-key", preventRecursion: true }), entry("b", { keys: ["b-key"] })];
    expect(names(run(book(prevents, { recursiveScanning: true }), ["k0"]))).toEqual(["a"]);
    const excluded = [entry("a", { keys: ["k0"], content: "mentions b-key" }), entry("b", { keys: ["b-key"], excludeRecursion: true })];
    expect(names(run(book(excluded, { recursiveScanning: true }), ["k0"]))).toEqual(["a"]);
  });

  it("orders by insertion order, and past the budget drops the lowest orders first (constants before keyed entries on a tie)", () => {
    const entries = [
      entry("low", { keys: ["x"], insertionOrder: 10, content: "one two three" }),
      entry("high", { keys: ["x"], insertionOrder: 300, content: "one two three" }),
      entry("mid", { keys: ["x"], insertionOrder: 200, content: "one two three" }),
      entry("always", { constant: true, insertionOrder: 200, content: "one two three" }),
    ];
    const all = run(book(entries, { tokenBudget: 100 }), ["x"]);
    expect(names(all)).toEqual(["low", "mid", "always", "high"]);
    const tight = run(book(entries, { tokenBudget: 7 }), ["x"]);
    expect(names(tight)).toEqual(["always", "high"]);
    expect(tight.dropped.map((a) => a.entry.name)).toEqual(["mid", "low"]);
    expect(tight.usedTokens).toBe(6);
  });

  it("takes a share of the model's window when the book sets no budget", () => {
    const big = entry("big", { constant: true, content: "w ".repeat(300) });
    expect(run(book([big]), [], 1000).budgetTokens).toBe(1000 * DEFAULT_BUDGET_SHARE);
    expect(names(run(book([big]), [], 1000))).toEqual([]);
    expect(names(run(book([big]), [], 2000))).toEqual(["big"]);
  });

  it("keeps each entry's position for the prompt: before or after the character, or at a depth with a role", () => {
    const entries = [
      entry("before", { constant: true }),
      entry("after", { constant: true, position: { at: "after_char" } }),
      entry("deep", { constant: true, position: { at: "depth", depth: 4, role: "system" } }),
    ];
    expect(run(book(entries), []).active.map((a) => a.entry.position)).toEqual([
      { at: "before_char" },
      { at: "after_char" },
      { at: "depth", depth: 4, role: "system" },
    ]);
  });
});
