import { DEFAULT_PERSONA_NAME, resolveMacros, type MacroNames } from "../../contracts/macros.js";
import type { Persona } from "../../contracts/persona.js";
import type { ChatMessage, FittedPrompt, PromptWindow } from "../gateway/types.js";

type HistoryMessage = { role: "user" | "assistant"; content: string };

/**
 * Tokens are estimated at 3.5 characters each (English prose runs nearer 4, other languages and
 * code fewer): an estimate on the safe side until a model's own tokenizer counts them. Each
 * message also spends a few tokens on its role and separators.
 */
export const estimatePromptTokens = (text: string) => Math.ceil(text.length / 3.5) + MESSAGE_OVERHEAD;
const MESSAGE_OVERHEAD = 4;
/** Left free in every window, for what the estimate misses. */
const MARGIN_TOKENS = 64;
/** Characters worth reading for a window of `tokens`: what the estimate could fit, and no more. */
export const charsFor = (tokens: number) => tokens * 4;

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

/**
 * The model's view of a conversation: the scenario's private system prompt, then the visible
 * history (the character's opening line included), oldest first. Empty turns (a reply cut off
 * before any text) carry nothing and are left out.
 */
export function buildPrompt(systemPrompt: string, history: HistoryMessage[]): ChatMessage[] {
  return [{ role: "system", content: systemPrompt }, ...turnsOf(history)];
}

const turnsOf = (history: HistoryMessage[]) => history.filter((m) => m.content.trim() !== "").map((m) => ({ role: m.role, content: m.content }));

/**
 * A prompt fitter for the gateway: for each model it tries, the system prompt and the newest turns
 * that fit its window (context length − its max_tokens − a margin), older turns left out whole.
 * The system prompt and the newest message are never left out: when those alone do not fit, the
 * answer says so. Token counts are taken once, not per model.
 */
export function promptFitter(systemPrompt: string, history: HistoryMessage[], names?: MacroNames): (window: PromptWindow) => FittedPrompt {
  // Messages keep their macros as written (an opening line's {{user}}); the model reads them resolved.
  const turns = names ? turnsOf(history).map((m) => ({ ...m, content: resolveMacros(m.content, names) })) : turnsOf(history);
  const costs = turns.map((m) => estimatePromptTokens(m.content));
  const system = estimatePromptTokens(systemPrompt);
  return ({ contextLength, maxTokens }) => {
    if (contextLength === null) return { messages: [{ role: "system", content: systemPrompt }, ...turns] }; // not known: all of it
    const budget = contextLength - (maxTokens ?? 0) - MARGIN_TOKENS;
    const newest = costs.at(-1) ?? 0;
    if (system + newest > budget) return { tooLong: { budgetTokens: Math.max(0, budget), neededTokens: system + newest } };
    let used = system;
    let start = turns.length;
    while (start > 0 && used + costs[start - 1]! <= budget) used += costs[--start]!;
    return { messages: [{ role: "system", content: systemPrompt }, ...turns.slice(start)] };
  };
}
