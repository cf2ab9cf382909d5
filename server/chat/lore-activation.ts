import type { LoreEntry, Lorebook } from "../../contracts/lorebook.js";

/**
 * Which lorebook entries a reply's prompt carries, by SillyTavern's World Info rules (the de facto
 * standard the cards come from). Pure: the newest messages and the book in, the entries out, each
 * with why it fired — what "what the model saw" shows.
 */

/** Messages searched when neither the entry nor the book says (SillyTavern's default). */
export const DEFAULT_SCAN_DEPTH = 2;
/** Passes over activated content when the book scans recursively, the first (the messages) included. */
export const MAX_RECURSION_PASSES = 5;
/** The share of the model's window a book may take when it sets no budget of its own. */
export const DEFAULT_BUDGET_SHARE = 0.25;

export type Activation = {
  entry: LoreEntry;
  /** The primary key that matched; undefined for a constant entry. */
  key?: string;
  why: "constant" | "key" | "recursion";
};

export type LoreResult = {
  /** What goes into the prompt, in insertion order (lowest first: the highest is nearest the end). */
  active: Activation[];
  /** Activated, but left out: the budget was spent. */
  dropped: Activation[];
  budgetTokens: number;
  usedTokens: number;
};

export type ActivationInput = {
  /** The conversation, oldest first; only the newest `scanDepth` are searched. */
  messages: readonly { content: string }[];
  /** The model's window, for the default budget. */
  contextTokens: number;
  /** Tokens in a text, by the model's own count (or an estimate). */
  countTokens: (text: string) => number;
};

export function activateLore(book: Lorebook, input: ActivationInput): LoreResult {
  const bookDepth = book.scanDepth ?? DEFAULT_SCAN_DEPTH;
  const found = new Map<LoreEntry, Activation>();
  const candidates = book.entries.filter((e) => e.enabled);

  for (const entry of candidates) if (entry.constant) found.set(entry, { entry, why: "constant" });

  // The first pass reads the messages (each entry at its own depth); a recursive pass reads what
  // the last one activated, for entries that allow it.
  let recursed = "";
  for (let pass = 0; pass < (book.recursiveScanning ? MAX_RECURSION_PASSES : 1); pass++) {
    const before = found.size;
    for (const entry of candidates) {
      if (found.has(entry)) continue;
      if (pass > 0 && entry.excludeRecursion) continue;
      const text = pass === 0 ? newest(input.messages, entry.scanDepth ?? bookDepth) : recursed;
      const key = firstMatch(entry, entry.keys, text);
      if (key === undefined || !secondaryAllows(entry, text)) continue;
      found.set(entry, { entry, key, why: pass === 0 ? "key" : "recursion" });
    }
    if (found.size === before) break;
    recursed = [...found.values()]
      .filter((a) => !a.entry.preventRecursion)
      .map((a) => a.entry.content)
      .join("\n");
  }

  // The budget goes to the most important first: the highest insertion order, constants before
  // keyed entries on a tie, then the book's own order. What does not fit is dropped.
  const budgetTokens = book.tokenBudget ?? Math.floor(input.contextTokens * DEFAULT_BUDGET_SHARE);
  const ranked = [...found.values()].sort(
    (a, b) =>
      b.entry.insertionOrder - a.entry.insertionOrder ||
      Number(b.why === "constant") - Number(a.why === "constant") ||
      book.entries.indexOf(a.entry) - book.entries.indexOf(b.entry),
  );
  const active: Activation[] = [];
  const dropped: Activation[] = [];
  let usedTokens = 0;
  for (const a of ranked) {
    const cost = input.countTokens(a.entry.content);
    if (usedTokens + cost <= budgetTokens) {
      usedTokens += cost;
      active.push(a);
    } else dropped.push(a);
  }
  active.sort((a, b) => a.entry.insertionOrder - b.entry.insertionOrder || book.entries.indexOf(a.entry) - book.entries.indexOf(b.entry));
  return { active, dropped, budgetTokens, usedTokens };
}

const newest = (messages: readonly { content: string }[], depth: number) =>
  messages
    .slice(Math.max(0, messages.length - depth))
    .map((m) => m.content)
    .join("\n");

function secondaryAllows(entry: LoreEntry, text: string): boolean {
  if (!entry.selective || entry.secondaryKeys.length === 0) return true;
  const hits = entry.secondaryKeys.filter((k) => matches(entry, k, text)).length;
  switch (entry.selectiveLogic) {
    case "and_any":
      return hits > 0;
    case "not_all":
      return hits < entry.secondaryKeys.length;
    case "not_any":
      return hits === 0;
    case "and_all":
      return hits === entry.secondaryKeys.length;
  }
}

const firstMatch = (entry: LoreEntry, keys: string[], text: string) => keys.find((k) => k.trim() !== "" && matches(entry, k, text));

/** A `/pattern/flags` key, as SillyTavern writes them. */
const REGEX_KEY = /^\/([\s\S]+)\/([dgimsuvy]*)$/;

function matches(entry: LoreEntry, key: string, text: string): boolean {
  const pattern = regexOf(entry, key);
  if (pattern !== undefined) return pattern !== null && pattern.test(text);
  const caseSensitive = entry.caseSensitive ?? false;
  const haystack = caseSensitive ? text : text.toLowerCase();
  const needle = caseSensitive ? key.trim() : key.trim().toLowerCase();
  if (!entry.matchWholeWords || /\s/.test(needle)) return haystack.includes(needle);
  // A word on its own: not inside a longer word, in any script.
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(needle)}(?![\\p{L}\\p{N}_])`, "u").test(haystack);
}

/** The key's regular expression; undefined for a plain key, null for an invalid one (it matches nothing). */
function regexOf(entry: LoreEntry, key: string): RegExp | null | undefined {
  const slashed = REGEX_KEY.exec(key.trim());
  if (!slashed && !entry.useRegex) return undefined;
  try {
    const [source, flags] = slashed ? [slashed[1]!, slashed[2]!] : [key, entry.caseSensitive ? "" : "i"];
    // A global or sticky flag would make test() stateful between calls.
    return new RegExp(source, flags.replace(/[gy]/g, ""));
  } catch {
    return null;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
