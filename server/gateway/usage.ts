import type { Model, Usage } from "./types.js";

/** About four characters a token for English text: only used when a provider reports no usage. */
export const estimateTokens = (chars: number) => (chars === 0 ? 0 : Math.max(1, Math.ceil(chars / 4)));

/** Tokens as reported, or estimated (and marked so) when the provider sent no usage. */
export function countTokens(usage: Usage | undefined, promptChars: number, completionChars: number) {
  return usage
    ? { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, tokensEstimated: false }
    : { promptTokens: estimateTokens(promptChars), completionTokens: estimateTokens(completionChars), tokensEstimated: true };
}

/** OpenRouter's own `usage.cost` when it sent one; otherwise tokens × the model's prices. */
export function costOf(
  usage: Usage | undefined,
  model: Pick<Model, "inputPricePerMtok" | "outputPricePerMtok">,
  promptTokens: number,
  completionTokens: number,
): number | null {
  if (usage?.cost !== undefined) return usage.cost;
  if (model.inputPricePerMtok == null || model.outputPricePerMtok == null) return null;
  return (promptTokens * model.inputPricePerMtok + completionTokens * model.outputPricePerMtok) / 1_000_000;
}
