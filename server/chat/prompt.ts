import { DEFAULT_PERSONA_NAME, resolveMacros, type MacroNames } from "../../contracts/macros.js";
import type { Persona } from "../../contracts/persona.js";
import { ESTIMATED, type TokenizerName } from "../../contracts/tokenizers.js";
import type { ChatMessage, FittedPrompt, PromptWindow } from "../gateway/types.js";
import { markHistory } from "../gateway/history-wire.js";
import type { MessageRole } from "../../contracts/enums.js";
import type { PromptPartKind, StoredPromptPart } from "../../contracts/prompt-report.js";
import { merge } from "../merge.js";

/** A message of the thread as the prompt needs it; `tokenCounts` are those stored with it, filled in as they are counted. */
type HistoryMessage = { id?: string; role: MessageRole; content: string; tokenCounts?: Record<string, number> };

/**
 * Each message also spends a few tokens on its role and separators (a chat template's markers:
 * about 4 for OpenAI's format, 5 for Llama 3's), counted on top of its text.
 */
export const MESSAGE_OVERHEAD = 6;
/** Left free in every window, for what the counts cannot see (a template's own prefix, say). */
export const MARGIN_TOKENS = 64;
/** Characters worth reading for a window of `tokens`: more than any tokenizer fits in it, so reading never cuts a prompt short. */
export const charsFor = (tokens: number) => tokens * 5;

/** What the macros of a conversation stand for: the person's persona name and the character's name. */
export const macroNames = (persona: Persona | null, characterName: string): MacroNames => ({
  user: persona?.name ?? DEFAULT_PERSONA_NAME,
  char: characterName,
});

/**
 * The system message, in its documented order: the scenario's system prompt, then the persona (who
 * the character is talking with), macros resolved in both.
 */
export function systemMessage(systemPrompt: string, persona: Persona | null, names: MacroNames): string {
  const about = persona?.description.trim() ? `\n\nAbout ${names.user}, the person you are talking with: ${persona.description.trim()}` : "";
  return resolveMacros(systemPrompt + about, names);
}


/** A count taken for a message that had none for that tokenizer: stored with the message after the reply. */
export type FreshCount = { id: string; tokenizer: string; tokens: number };

/**
 * What goes around the history, beyond one system message (a character card brings these):
 * example dialogue, the first thing dropped when the window is short; instructions after the
 * history; lines at a depth inside it. `system` may depend on the window (lore fits its budget).
 */
export type PromptPlan = {
  system: string;
  /** The system message for a given window, when it depends on it (lore within its budget); `system` otherwise. */
  systemFor?: (window: PromptWindow) => string | Promise<string>;
  /** Example dialogue blocks, each sent as a system message after the first; dropped from the last when the history would otherwise be cut. */
  examples?: string[];
  /** A system message after the history (a card's post-history instructions). */
  postHistory?: string;
  /** Messages placed `depth` messages above the end of the history (0: after the newest). */
  atDepth?: (window: PromptWindow) => { depth: number; role: ChatMessage["role"]; content: string }[];
};

/**
 * A prompt fitter for the gateway: for each model it tries, the system prompt and the newest turns
 * that fit its window (context length − its max_tokens − a margin), older turns left out whole.
 * The system prompt and the newest message are never left out: when those alone do not fit, the
 * answer says so. Tokens are counted with the model's own tokenizer; a message's count is taken
 * once per tokenizer (kept with the message), and only as far back as the window can reach.
 */
export function promptFitter(plan: string | PromptPlan, history: HistoryMessage[], names?: MacroNames, thread?: string) {
  const { system, systemFor, examples = [], postHistory, atDepth }: PromptPlan = typeof plan === "string" ? { system: plan } : plan;
  const { kept, turns } = historyTurns(history, names, thread);
  const fresh: FreshCount[] = [];
  /** The latest fit that made a prompt: the one the serving model got, for "what the model saw". */
  let last: { window: PromptWindow; systemPrompt: string; examples: number; start: number; inserts: Insert[] } | undefined;

  /** The newest turns that fit beside `fixed` tokens: where they start, or the prompt's refusal. */
  const fitTurns = async ({ contextLength, maxTokens, tokenizer, count }: PromptWindow, fixed: number) => {
    const budget = contextLength - (maxTokens ?? 0) - MARGIN_TOKENS;
    let used = fixed;
    let start = turns.length;
    // Newest first, counting in batches only what is not counted yet.
    while (start > 0) {
      const batchEnd = start;
      const batchStart = Math.max(0, start - COUNT_BATCH);
      const missing = [];
      for (let i = batchStart; i < batchEnd; i++) if (kept[i]!.tokenCounts?.[tokenizer] === undefined) missing.push(i);
      if (missing.length) {
        const counted = await count(missing.map((i) => turns[i]!.content));
        missing.forEach((i, n) => {
          const m = kept[i]!;
          m.tokenCounts = merge(m.tokenCounts ?? {}, { [tokenizer]: counted[n]! });
          if (m.id && !ESTIMATED.has(tokenizer as TokenizerName)) fresh.push({ id: m.id, tokenizer, tokens: counted[n]! });
        });
      }
      let full = false;
      while (start > batchStart) {
        const cost = kept[start - 1]!.tokenCounts![tokenizer]! + MESSAGE_OVERHEAD;
        if (start === turns.length && used + cost > budget) return { tooLong: { budgetTokens: Math.max(0, budget), neededTokens: used + cost } } as const;
        if (used + cost > budget) {
          full = true;
          break;
        }
        used += cost;
        start--;
      }
      if (full) break;
    }
    return { start } as const;
  };

  const fit = async (window: PromptWindow): Promise<FittedPrompt> => {
    const systemPrompt = systemFor ? await systemFor(window) : system;
    const inserts = atDepth?.(window) ?? [];
    const fixedTexts = [systemPrompt, ...(postHistory ? [postHistory] : []), ...inserts.map((i) => i.content)];
    const fixed = (await window.count(fixedTexts)).reduce((n, t) => n + t + MESSAGE_OVERHEAD, 0);
    const exampleCosts = examples.length ? (await window.count(examples)).map((t) => t + MESSAGE_OVERHEAD) : [];
    // Examples stay while the whole history fits beside them; they go, the last first, before any turn does.
    let kept = examples.length;
    let fitted = await fitTurns(window, fixed + exampleCosts.reduce((a, b) => a + b, 0));
    while (kept > 0 && (fitted.tooLong || fitted.start > 0)) {
      kept--;
      fitted = await fitTurns(window, fixed + exampleCosts.slice(0, kept).reduce((a, b) => a + b, 0));
    }
    if (fitted.tooLong) return { tooLong: fitted.tooLong };
    last = { window, systemPrompt, examples: kept, start: fitted.start, inserts };
    const exampleBlocks = examples.slice(0, kept);
    // The history's first unbroken stretch (all of it, unless lore sits inside), for the body's
    // writer to copy as bytes kept from the last reply (gateway/history-wire.ts).
    if (inserts.length === 0) {
      // assemble()'s order, without a part object for each of a long story's ~2,000 turns.
      const messages: ChatMessage[] = [{ role: "system", content: systemPrompt }, ...exampleBlocks.map((content) => ({ role: "system" as const, content }))];
      const at = messages.length;
      for (let i = fitted.start; i < turns.length; i++) messages.push(turns[i]!);
      if (postHistory) messages.push({ role: "system", content: postHistory });
      return { messages: markHistory(messages, { at, count: turns.length - fitted.start, source: turns, from: fitted.start }) };
    }
    const parts = assemble(systemPrompt, exampleBlocks, fitted.start, inserts);
    const at = parts.findIndex((p) => p.kind === "history");
    let count = 0;
    while (at >= 0 && parts[at + count]?.kind === "history" && parts[at + count]!.turn === fitted.start + count) count++;
    const messages = parts.map((p) => p.message);
    return { messages: at >= 0 ? markHistory(messages, { at, count, source: turns, from: fitted.start }) : messages };
  };

  /** The prompt in order, each message with what it is (a history turn by its index in `kept`). */
  function assemble(systemPrompt: string, exampleBlocks: string[], start: number, inserts: Insert[]) {
    type Part = { message: ChatMessage; kind: PromptPartKind; turn?: number; depth?: number };
    const body: Part[] = turns.slice(start).map((message, i) => ({ message, kind: "history", turn: start + i }));
    // Deepest first, so each depth counts from the end of the history as it was.
    for (const i of [...inserts].sort((a, b) => b.depth - a.depth)) {
      body.splice(Math.max(0, body.length - i.depth), 0, { message: { role: i.role, content: i.content }, kind: "lore", depth: i.depth });
    }
    const system = (kind: PromptPartKind, content: string): Part => ({ message: { role: "system", content }, kind });
    return [
      system("system", systemPrompt),
      ...exampleBlocks.map((content) => system("example", content)),
      ...body,
      ...(postHistory ? [system("post_history", postHistory)] : []),
    ];
  }

  return Object.assign(fit, {
    /** Counts taken by real tokenizers that the messages did not have yet, to be stored. */
    fresh: () => fresh,
    /** The oldest history message the latest fitted prompt held, where the model's memory begins (null: none). */
    oldestSent: (): string | null => (last ? (kept[last.start]?.id ?? null) : null),
    /**
     * The prompt the latest fit made, as "what the model saw" keeps it: history turns by message id,
     * and what was left out. Undefined when no fit made one.
     */
    sent: () => {
      if (!last) return undefined;
      const parts = assemble(last.systemPrompt, examples.slice(0, last.examples), last.start, last.inserts).map((p): StoredPromptPart => {
        const id = p.turn === undefined ? undefined : kept[p.turn]!.id;
        if (p.kind === "history" && id) return { kind: "history", role: p.message.role, messageId: id };
        return { kind: p.kind === "history" ? "system" : p.kind, role: p.message.role, content: p.message.content, ...(p.depth !== undefined ? { depth: p.depth } : {}) };
      });
      return { window: last.window, parts, historyLeftOut: last.start, examplesDropped: examples.length - last.examples };
    },
  });
}

type Insert = ReturnType<NonNullable<PromptPlan["atDepth"]>>[number];

/** A report's parts as stored: each stretch of consecutive history messages as one run by its ends. */
export function compactHistory(parts: readonly StoredPromptPart[]): StoredPromptPart[] {
  const out: StoredPromptPart[] = [];
  let run: Extract<StoredPromptPart, { kind: "history" }>[] = [];
  const flush = () => {
    if (run.length > 1) out.push({ kind: "history_run", fromId: run[0]!.messageId, toId: run.at(-1)!.messageId, count: run.length });
    else out.push(...run);
    run = [];
  };
  for (const p of parts) {
    if (p.kind === "history") run.push(p);
    else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/** A thread's history as its last fit took it: the rows, those with text, and their turns. */
type Turns = { rows: HistoryMessage[]; names: MacroNames | undefined; kept: HistoryMessage[]; turns: ChatMessage[]; keptBefore: number[] };
/**
 * By thread (a session), the last used first to go: a long story's next reply takes ~2,000 rows it
 * took last time. Bounded by rows held (about the thread cache's 8 M characters of text, which
 * holds the same rows; these also keep alive the history's bytes in gateway/history-wire.ts).
 */
const lastTurns = new Map<string, Turns>();
const LAST_TURNS_ROWS = 20_000;
let lastTurnsRows = 0;

/**
 * The history's messages with text (`kept`) and what the model reads of each (`turns`). A thread's
 * next reply finds most of its rows where the last left them (the same objects, its window slid
 * down a little at most), and takes that stretch as it was instead of going over each row again.
 */
function historyTurns(history: HistoryMessage[], names: MacroNames | undefined, thread: string | undefined): Pick<Turns, "kept" | "turns"> {
  const last = thread === undefined ? undefined : lastTurns.get(thread);
  let kept: HistoryMessage[] = [];
  let turns: ChatMessage[] = [];
  // keptBefore[i]: how many of rows 0 … i − 1 have text.
  let keptBefore: number[] = [0];
  let done = 0;
  if (last && last.names?.user === names?.user && last.names?.char === names?.char && history.length > 0) {
    const at = last.rows.indexOf(history[0]!);
    if (at >= 0) {
      while (done < history.length && at + done < last.rows.length && last.rows[at + done] === history[done]) done++;
      const from = last.keptBefore[at]!;
      const to = last.keptBefore[at + done]!;
      kept = last.kept.slice(from, to);
      turns = last.turns.slice(from, to);
      keptBefore = last.keptBefore.slice(at, at + done + 1).map((n) => n - from);
    }
  }
  // Messages keep their macros as written (an opening line's {{user}}); the model reads them resolved.
  for (let i = done; i < history.length; i++) {
    const m = history[i]!;
    if (hasText(m.content)) {
      kept.push(m);
      turns.push(turnOf(m, names));
    }
    keptBefore.push(kept.length);
  }
  if (thread !== undefined) {
    lastTurnsRows -= last?.rows.length ?? 0;
    lastTurns.delete(thread); // most recently used goes last
    if (history.length <= LAST_TURNS_ROWS) {
      lastTurns.set(thread, { rows: history.slice(), names, kept, turns, keptBefore });
      lastTurnsRows += history.length;
    }
    for (const [key, old] of lastTurns) {
      if (lastTurnsRows <= LAST_TURNS_ROWS) break;
      lastTurns.delete(key);
      lastTurnsRows -= old.rows.length;
    }
  }
  return { kept, turns };
}

/**
 * A history message as the model reads it (macros resolved), the same frozen object for as long as
 * the message's row lives and the names stay: the rows of an active conversation are kept between
 * replies (path-cache.ts), so the next reply neither resolves nor serialises them again (the
 * upstream body keeps the history's JSON, gateway/history-wire.ts).
 */
const turns = new WeakMap<HistoryMessage, { names: MacroNames | undefined; turn: ChatMessage }>();
function turnOf(m: HistoryMessage, names: MacroNames | undefined): ChatMessage {
  const known = turns.get(m);
  if (known && known.names?.user === names?.user && known.names?.char === names?.char) return known.turn;
  const turn = Object.freeze({ role: m.role, content: names ? resolveMacros(m.content, names) : m.content });
  turns.set(m, { names, turn });
  return turn;
}

/**
 * Whether a message says anything (one without, such as a reply stopped before its first word, is
 * never sent): most do, and a pattern says so without a trimmed copy of each.
 */
export const hasText = (content: string) => NOT_BLANK.test(content);
const NOT_BLANK = /\S/;

/** Messages counted per call to a tokenizer: a window reaches back a few hundred at most, mostly already counted. */
const COUNT_BATCH = 200;
