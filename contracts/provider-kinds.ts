import type { ProviderKind } from "./enums.js";
import type { TokenizerName } from "./tokenizers.js";

/**
 * What the dashboard and the server both know of each provider kind, as data. How a kind behaves
 * on a request (headers, body, health) lives in its adapter under server/gateway/providers/.
 */
export const PROVIDER_KIND_FACTS: Record<ProviderKind, { hint?: string; tokenizer?: TokenizerName; /** Takes OpenRouter's provider preferences. */ routingPreferences?: true }> = {
  openrouter: { hint: "OpenRouter rows are sent to OPENROUTER_BASE_URL", routingPreferences: true },
  openai_compatible: {},
  // The worker counts with the model it runs (POST /tokenize), whatever the model is called.
  chat_worker: { tokenizer: "worker" },
};
