import { DEFAULT_PERSONA_NAME, resolveMacros, type MacroNames } from "../../contracts/macros.js";
import type { Persona } from "../../contracts/persona.js";
import { ESTIMATED, type TokenizerName } from "../../contracts/tokenizers.js";
import type { ChatMessage, FittedPrompt, PromptWindow } from "../gateway/types.js";
import type { MessageRole } from "../../contracts/enums.js";

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
 * A prompt fitter for the gateway: for each model it tries, the system prompt and the newest turns
 * that fit its window (context length − its max_tokens − a margin), older turns left out whole.
 * The system prompt and the newest message are never left out: when those alone do not fit, the
 * answer says so. Tokens are counted with the model's own tokenizer; a message's count is taken
 * once per tokenizer (kept with the message), and only as far back as the window can reach.
 */
export function promptFitter(systemPrompt: string, history: HistoryMessage[], names?: MacroNames) {
  // Messages keep their macros as written (an opening line's {{user}}); the model reads them resolved.
  const kept = history.filter((m) => m.content.trim() !== "");
  const turns = kept.map((m) => ({ role: m.role, content: names ? resolveMacros(m.content, names) : m.content }));
  const fresh: FreshCount[] = [];

  const fit = async ({ contextLength, maxTokens, tokenizer, count }: PromptWindow): Promise<FittedPrompt> => {
    const budget = contextLength - (maxTokens ?? 0) - MARGIN_TOKENS;
    const [systemTokens] = await count([systemPrompt]);
    const system = systemTokens! + MESSAGE_OVERHEAD;
    let used = system;
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
          m.tokenCounts = { ...m.tokenCounts, [tokenizer]: counted[n]! };
          if (m.id && !ESTIMATED.has(tokenizer as TokenizerName)) fresh.push({ id: m.id, tokenizer, tokens: counted[n]! });
        });
      }
      let full = false;
      while (start > batchStart) {
        const cost = kept[start - 1]!.tokenCounts![tokenizer]! + MESSAGE_OVERHEAD;
        if (start === turns.length && used + cost > budget) return { tooLong: { budgetTokens: Math.max(0, budget), neededTokens: used + cost } };
        if (used + cost > budget) {
          full = true;
          break;
        }
        used += cost;
        start--;
      }
      if (full) break;
    }
    return { messages: [{ role: "system", content: systemPrompt }, ...turns.slice(start)] };
  };
  return Object.assign(fit, {
    /** The whole prompt, unfitted: for a request without a window to fit. */
    all: (): ChatMessage[] => [{ role: "system", content: systemPrompt }, ...turns],
    /** Counts taken by real tokenizers that the messages did not have yet, to be stored. */
    fresh: () => fresh,
  });
}

/** Messages counted per call to a tokenizer: a window reaches back a few hundred at most, mostly already counted. */
const COUNT_BATCH = 200;
