import { openAICompatible, type ProviderAdapter } from "./adapter.js";
import { merge } from "../../merge.js";

/**
 * OpenRouter: one deployment-wide base URL, app attribution headers, the exact cost in the usage
 * chunk, and the row's provider preferences as OpenRouter's `provider` object.
 */
export const openRouter: ProviderAdapter = {
  ...openAICompatible,
  resolve: (p, settings) => merge(p, { baseUrl: settings.openrouterBaseUrl }),
  headers: (app) => ({ "HTTP-Referer": app.url, "X-Title": app.title }),
  bodyExtras: (p) => ({ usage: { include: true }, ...(p.routingPreferences && Object.keys(p.routingPreferences).length ? { provider: p.routingPreferences } : {}) }),
};
