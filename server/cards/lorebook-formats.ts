import { lorebookSchema, SELECTIVE_LOGICS, type LoreEntry, type LorePosition, type Lorebook } from "../../contracts/lorebook.js";
import type { CardLorebook } from "../../contracts/character-card.js";

/**
 * Lorebooks from the shapes they come in, onto contracts/lorebook.ts: a card's `character_book`
 * (V2) or `lorebook` (V3), with SillyTavern's settings in each entry's `extensions`, and
 * SillyTavern's own World Info file (`{"entries": {"0": {...}}}`, its field names).
 */

const ROLES = ["system", "user", "assistant"] as const;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);

/**
 * SillyTavern's positions: 0 before the character, 1 after, 2 and 3 around the author's note
 * (which Parley has not: after the character), 4 at a depth in the history with a role.
 */
function position(stPosition: unknown, named: unknown, depth: unknown, role: unknown): LorePosition {
  const p = num(stPosition);
  if (p === 4) return { at: "depth", depth: Math.max(0, Math.round(num(depth) ?? 4)), role: ROLES[num(role) ?? 0] ?? "system" };
  if (p === 1 || p === 2 || p === 3) return { at: "after_char" };
  if (p === 0) return { at: "before_char" };
  return named === "after_char" ? { at: "after_char" } : { at: "before_char" };
}

const logic = (v: unknown) => SELECTIVE_LOGICS[num(v) ?? 0] ?? "and_any";

/** A card's lorebook (V2 `character_book`, V3 `lorebook`). */
export function lorebookFromCard(book: CardLorebook): Lorebook {
  return lorebookSchema.parse({
    name: book.name,
    description: book.description,
    scanDepth: num(book.scan_depth),
    tokenBudget: num(book.token_budget),
    recursiveScanning: book.recursive_scanning ?? false,
    extensions: book.extensions,
    entries: book.entries.map((e): LoreEntry => {
      const x = e.extensions as Record<string, unknown>;
      return {
        id: e.id,
        name: e.name,
        comment: e.comment,
        keys: e.keys,
        secondaryKeys: e.secondary_keys ?? [],
        content: e.content,
        enabled: e.enabled,
        constant: e.constant ?? false,
        selective: e.selective ?? false,
        selectiveLogic: logic(x.selectiveLogic),
        caseSensitive: e.case_sensitive ?? bool(x.case_sensitive),
        matchWholeWords: bool(x.match_whole_words),
        useRegex: e.use_regex ?? false,
        scanDepth: num(x.scan_depth),
        insertionOrder: e.insertion_order,
        position: position(x.position, e.position, x.depth, x.role),
        excludeRecursion: bool(x.exclude_recursion) ?? false,
        preventRecursion: bool(x.prevent_recursion) ?? false,
        extensions: e.extensions,
      };
    }),
  });
}

/** SillyTavern's World Info file: entries keyed by number, its own field names. */
export function lorebookFromWorldInfo(json: unknown): Lorebook {
  const o = (json ?? {}) as { entries?: unknown; name?: unknown };
  if (!o.entries || typeof o.entries !== "object") throw new Error("A World Info file has an `entries` object");
  const entries = Object.values(o.entries as Record<string, Record<string, unknown>>).map((e): LoreEntry => ({
    id: num(e.uid),
    name: typeof e.comment === "string" ? e.comment : undefined,
    keys: strings(e.key),
    secondaryKeys: strings(e.keysecondary),
    content: typeof e.content === "string" ? e.content : "",
    enabled: e.disable !== true,
    constant: e.constant === true,
    selective: e.selective === true,
    selectiveLogic: logic(e.selectiveLogic),
    caseSensitive: bool(e.caseSensitive),
    matchWholeWords: bool(e.matchWholeWords),
    useRegex: false,
    scanDepth: num(e.scanDepth),
    insertionOrder: num(e.order) ?? 100,
    position: position(e.position, undefined, e.depth, e.role),
    excludeRecursion: e.excludeRecursion === true,
    preventRecursion: e.preventRecursion === true,
    extensions: {},
  }));
  return lorebookSchema.parse({ name: typeof o.name === "string" ? o.name : undefined, entries });
}
