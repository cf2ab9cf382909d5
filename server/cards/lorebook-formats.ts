import { lorebookSchema, SELECTIVE_LOGICS, type LoreEntry, type LorePosition, type Lorebook } from "../../contracts/lorebook.js";
import { cardLorebookSchema, type CardLorebook } from "../../contracts/character-card.js";
import { ZodError } from "zod";
import { AppError } from "../errors.js";
import { splitDecorators } from "./card-json.js";

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

/**
 * A card's lorebook (V2 `character_book`, V3 `lorebook`), with V3 decorators (`@@` lines at the
 * top of an entry's content) applied: they override the entry's fields and never reach the model.
 */
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
      const entry: LoreEntry = {
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
      return withDecorators(entry);
    }),
  });
}

/**
 * V3 decorators Parley honours, from the lines at the top of an entry's content:
 * `@@activate` (always in), `@@dont_activate` (never), `@@depth N` and `@@role R` (inserted at a
 * depth of the history, spoken by R), `@@position before_desc|after_desc`, `@@scan_depth N`,
 * `@@additional_keys a,b` (also needs one of these) and `@@exclude_keys a,b` (not with any of
 * these). Others are left out of the content and otherwise ignored; `@@@` fallbacks too.
 */
export function withDecorators(entry: LoreEntry): LoreEntry {
  const { decorators, text } = splitDecorators(entry.content);
  if (decorators.length === 0) return entry;
  const e: LoreEntry = { ...entry, content: text };
  let depth: number | undefined;
  let role: (typeof ROLES)[number] | undefined;
  for (const line of decorators) {
    if (line.startsWith("@@@")) continue;
    const [, name = "", arg = ""] = /^@@(\w+)\s*(.*)$/.exec(line.trim()) ?? [];
    const n = Number.parseInt(arg, 10);
    const list = arg.split(",").map((k) => k.trim()).filter(Boolean);
    if (name === "activate") e.constant = true;
    else if (name === "dont_activate") e.enabled = false;
    else if (name === "depth" && Number.isFinite(n)) depth = Math.max(0, n);
    else if (name === "role" && (ROLES as readonly string[]).includes(arg.trim())) role = arg.trim() as (typeof ROLES)[number];
    else if (name === "scan_depth" && Number.isFinite(n)) e.scanDepth = Math.max(0, n);
    else if (name === "position" && /^(before_desc|personality)$/.test(arg.trim())) e.position = { at: "before_char" };
    else if (name === "position" && /^(after_desc|scenario)$/.test(arg.trim())) e.position = { at: "after_char" };
    else if (name === "additional_keys" && list.length) Object.assign(e, { selective: true, selectiveLogic: "and_any", secondaryKeys: list });
    else if (name === "exclude_keys" && list.length) Object.assign(e, { selective: true, selectiveLogic: "not_any", secondaryKeys: list });
  }
  if (depth !== undefined || role !== undefined) {
    e.position = { at: "depth", depth: depth ?? (e.position.at === "depth" ? e.position.depth : 4), role: role ?? (e.position.at === "depth" ? e.position.role : "system") };
  }
  return e;
}

/**
 * SillyTavern's World Info file (`{"entries": {"0": {...}}}`, its own field names) in the card
 * spec's shape, as SillyTavern itself writes a book into a card: its settings in `extensions`.
 */
export function cardBookFromWorldInfo(json: unknown): CardLorebook {
  const o = (json ?? {}) as { entries?: unknown; name?: unknown; description?: unknown };
  if (!o.entries || typeof o.entries !== "object" || Array.isArray(o.entries)) throw new Error("A World Info file has an `entries` object");
  const entries = Object.entries(o.entries as Record<string, unknown>).map(([name, value]) => {
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`entry ${JSON.stringify(name)} is not an object`);
    const e = value as Record<string, unknown>;
    const { key, keysecondary, comment, content, constant, selective, order, disable, uid, ...rest } = e;
    return {
      id: num(uid),
      keys: strings(key),
      secondary_keys: strings(keysecondary),
      comment: typeof comment === "string" ? comment : "",
      ...(typeof comment === "string" && comment ? { name: comment } : {}),
      content: typeof content === "string" ? content : "",
      constant: constant === true,
      selective: selective === true,
      insertion_order: num(order) ?? 100,
      enabled: disable !== true,
      position: num(e.position) === 0 ? ("before_char" as const) : ("after_char" as const),
      // Everything else of SillyTavern's (position, depth, role, selectiveLogic, …) as it writes them into cards.
      extensions: {
        ...Object.fromEntries(Object.entries(rest).filter(([k]) => !["keysecondary", "caseSensitive", "matchWholeWords", "scanDepth", "excludeRecursion", "preventRecursion"].includes(k))),
        ...(bool(e.caseSensitive) !== undefined ? { case_sensitive: e.caseSensitive } : {}),
        ...(bool(e.matchWholeWords) !== undefined ? { match_whole_words: e.matchWholeWords } : {}),
        ...(num(e.scanDepth) !== undefined ? { scan_depth: e.scanDepth } : {}),
        exclude_recursion: e.excludeRecursion === true,
        prevent_recursion: e.preventRecursion === true,
      },
    };
  });
  return cardLorebookSchema.parse({
    ...(typeof o.name === "string" ? { name: o.name } : {}),
    ...(typeof o.description === "string" ? { description: o.description } : {}),
    entries,
    extensions: {},
  });
}

/** SillyTavern's World Info file, as Parley reads lorebooks. */
export const lorebookFromWorldInfo = (json: unknown): Lorebook => lorebookFromCard(cardBookFromWorldInfo(json));

/** The largest lorebook file Parley takes. */
export const MAX_LOREBOOK_BYTES = 5 * 1024 * 1024;

export const invalidLorebook = (message: string) => new AppError(400, "invalid_lorebook", message);

/**
 * A lorebook file of any kind Parley takes, in the card spec's shape: SillyTavern's World Info
 * (`entries` keyed by number), a V3 `lorebook_v3` file, a bare card lorebook (`entries` a list),
 * or a character card (its book). Checked to be usable, or a clear error.
 */
export function readLorebookFile(json: unknown): CardLorebook {
  if (!json || typeof json !== "object" || Array.isArray(json)) throw invalidLorebook("This file holds no lorebook");
  const o = json as Record<string, unknown>;
  let raw: unknown;
  try {
    if (o.spec === "lorebook_v3") raw = o.data;
    else if (o.spec === "chara_card_v2" || o.spec === "chara_card_v3") {
      raw = (o.data as Record<string, unknown> | undefined)?.character_book;
      if (!raw) throw invalidLorebook("This character card has no lorebook");
    } else if (o.entries && typeof o.entries === "object" && !Array.isArray(o.entries)) return checked(cardBookFromWorldInfo(o));
    else if (Array.isArray(o.entries)) raw = o;
    else throw invalidLorebook("This file holds no lorebook: expected SillyTavern World Info, a lorebook_v3 file or a card lorebook");
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalidLorebook(`The lorebook is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = cardLorebookSchema.safeParse(raw);
  if (!parsed.success) throw invalidLorebook(`The lorebook is malformed: ${describe(parsed.error)}`);
  return checked(parsed.data);
}

/** A book Parley can use: within its limits (entries, lengths), or a clear error. */
export function checked(book: CardLorebook): CardLorebook {
  try {
    lorebookFromCard(book);
  } catch (err) {
    if (err instanceof ZodError) throw invalidLorebook(`The lorebook is malformed: ${describe(err)}`);
    throw err;
  }
  return book;
}

const describe = (err: ZodError) => {
  const issue = err.issues[0]!;
  return `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`;
};
