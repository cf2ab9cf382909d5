import { resolveMacros, type MacroNames } from "../../contracts/macros.js";
import type { Lorebook } from "../../contracts/lorebook.js";
import type { Persona } from "../../contracts/persona.js";
import type { CardData } from "../../contracts/character-card.js";
import type { PromptWindow } from "../gateway/types.js";
import { activateLore, type Activation, type LoreResult } from "./lore-activation.js";
import type { LoreFired } from "../../contracts/prompt-report.js";
import type { PromptPlan } from "./prompt.js";

/**
 * The prompt a character card asks for, in its documented order (README, "Character cards"):
 *
 *   system   the card's system prompt ({{original}} inside it: Parley's default), else the default
 *            lore placed before the character
 *            the description, the personality, the scenario
 *            lore placed after the character
 *            the persona (who the character is talking with)
 *   system   example dialogue, one message per <START> block — the first thing dropped when short
 *   …        the history, with lore placed at a depth inside it
 *   system   the card's post-history instructions
 *
 * `creator_notes`, `tags`, `creator` and `character_version` are shown to the person, never sent.
 * Macros ({{char}}: the nickname when the card has one, {{user}}: the persona) are resolved throughout.
 */
export function characterPlan(input: {
  card: CardData;
  /** Parley's own system prompt for a character (what `{{original}}` stands for). */
  defaultSystemPrompt: string;
  persona: Persona | null;
  names: MacroNames;
  lorebooks: Lorebook[];
  /** The newest messages of the thread, oldest first: what lore keys are looked for in. */
  recent: readonly { content: string }[];
  /** Tokens in a text, for the lore budget (an estimate is enough: the fitter counts exactly). */
  estimateTokens: (text: string) => number;
}): CharacterPlan {
  const { card, names } = input;
  const r = (text: string) => resolveMacros(text, names);
  const base = card.system_prompt.trim()
    ? card.system_prompt.replaceAll("{{original}}", input.defaultSystemPrompt)
    : input.defaultSystemPrompt;
  const definition = [
    card.description.trim(),
    card.personality.trim() ? `${names.char}'s personality: ${card.personality.trim()}` : "",
    card.scenario.trim() ? `Scenario: ${card.scenario.trim()}` : "",
  ];
  const about = input.persona?.description.trim() ? `About ${names.user}, the person you are talking with: ${input.persona.description.trim()}` : "";

  // Once per window: the system message and the depth inserts share one activation.
  const byWindow = new WeakMap<PromptWindow, ReturnType<typeof activate>>();
  const lore = (window: PromptWindow | undefined) => {
    if (!window) return activate(undefined);
    let found = byWindow.get(window);
    if (!found) byWindow.set(window, (found = activate(window)));
    return found;
  };
  const activate = (window: PromptWindow | undefined) => {
    const results = input.lorebooks.map((book) =>
      activateLore(book, { messages: input.recent, contextTokens: window?.contextLength ?? 8192, countTokens: input.estimateTokens }),
    );
    const fired = (pick: (r: LoreResult) => LoreResult["active"]) =>
      results.flatMap((res, i) => pick(res).map((a) => loreFired(input.lorebooks[i]!, a, input.estimateTokens)));
    const report = { fired: fired((r) => r.active), dropped: fired((r) => r.dropped) };
    const active = results.flatMap((res) => res.active.map((a) => a.entry));
    return {
      before: active.filter((e) => e.position.at === "before_char").map((e) => e.content),
      after: active.filter((e) => e.position.at === "after_char").map((e) => e.content),
      atDepth: active.flatMap((e) => (e.position.at === "depth" ? [{ depth: e.position.depth, role: e.position.role, content: r(e.content) }] : [])),
      report,
    };
  };
  const systemWith = (l: ReturnType<typeof lore>) => r(join([base, ...l.before, ...definition, ...l.after, about]));

  return {
    system: systemWith(lore(undefined)),
    systemFor: (window) => systemWith(lore(window)),
    examples: exampleBlocks(card.mes_example).map((block) => r(`Example of how ${names.char} talks:\n${block}`)),
    postHistory: card.post_history_instructions.trim() ? r(card.post_history_instructions.trim()) : undefined,
    atDepth: (window) => lore(window).atDepth,
    loreFor: (window) => lore(window).report,
  };
}

export type CharacterPlan = PromptPlan & {
  /** The lore a window's prompt carried, and what its budget left out: for "what the model saw". */
  loreFor: (window: PromptWindow | undefined) => { fired: LoreFired[]; dropped: LoreFired[] };
};

function loreFired(book: Lorebook, a: Activation, estimateTokens: (text: string) => number): LoreFired {
  const e = a.entry;
  const p = e.position;
  return {
    book: book.name?.trim() || "Lorebook",
    entry: e.name?.trim() || e.comment?.trim() || e.keys[0] || `entry ${String(e.id ?? book.entries.indexOf(e) + 1)}`,
    ...(a.key !== undefined ? { key: a.key } : {}),
    why: a.why,
    position: p.at === "depth" ? `depth ${p.depth} as ${p.role}` : p.at,
    tokens: estimateTokens(e.content),
  };
}

/** What `{{original}}` stands for, and the system prompt of a card that has none of its own. */
export const DEFAULT_CHARACTER_PROMPT =
  "You are {{char}}. Write {{char}}'s next reply in this conversation with {{user}}: stay in character, in {{char}}'s voice, and never speak for {{user}}.";

/** The newest messages lore keys are looked for in, at most (an entry's scan depth is usually a few). */
export const LORE_SCAN_MESSAGES = 100;

const join = (parts: string[]) => parts.filter((p) => p.trim() !== "").join("\n\n");

/** `mes_example` split on `<START>` (any case), each block trimmed, empty ones left out. */
export const exampleBlocks = (mesExample: string): string[] =>
  mesExample
    .split(/<start>/i)
    .map((b) => b.trim())
    .filter(Boolean);

/** `{{char}}` for a card: its V3 nickname when it has one, else its name. */
export const characterNameOf = (card: Pick<CardData, "name" | "nickname">) => card.nickname?.trim() || card.name;
