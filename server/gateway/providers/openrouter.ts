import { openAICompatible, type ProviderAdapter } from "./adapter.js";

/** OpenRouter: one deployment-wide base URL, app attribution headers, and the exact cost in the usage chunk. */
export const openRouter: ProviderAdapter = {
  ...openAICompatible,
  resolve: (p, settings) => ({ ...p, baseUrl: settings.openrouterBaseUrl }),
  headers: (app) => ({ "HTTP-Referer": app.url, "X-Title": app.title }),
  bodyExtras: { usage: { include: true } },
};
