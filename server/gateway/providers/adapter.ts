import type { Provider } from "../types.js";

/** How Parley names itself to providers that attribute requests to apps (OpenRouter). */
export type AppIdentity = { url: string; title: string };

/** This deployment's settings that decide where some providers live. */
export type DeploymentSettings = {
  /** OPENROUTER_BASE_URL: where `openrouter` providers live (a proxy, or a test upstream). */
  openrouterBaseUrl: string;
  /** Where Parley's own worker listens (CHAT_WORKER_URL, or the worker Parley started); without it, that one is not usable. */
  chatWorkerUrl: string | undefined;
};

/** What one try of a provider came to, as far as its liveness is concerned. */
export type LivenessEvidence = "answered" | "unreachable" | "server_error" | "other_error" | "stream_lost";

/**
 * What one provider kind does differently. The wire format is the same for all (the
 * OpenAI-compatible codec beside this file); a kind adds headers and body fields, says where it
 * lives on this deployment, and whether and how Parley tracks its liveness. A new kind is one
 * file implementing this, listed in index.ts.
 */
export type ProviderAdapter = {
  /** The row as requests see it: this deployment's settings applied (a base URL from the environment). */
  resolve(p: Provider, settings: DeploymentSettings): Provider;
  /** What keeps the provider from serving on this deployment, whatever its health; undefined when nothing does. */
  unconfigured(p: Provider, settings: DeploymentSettings): "worker_not_configured" | undefined;
  /** Headers this kind adds to every request (beside the row's own and its credentials). */
  headers(app: AppIdentity): Record<string, string>;
  /** Fields this kind adds to every chat request's body. */
  /** Fields this kind adds to every request body, from the row (OpenRouter's usage accounting and provider preferences). */
  bodyExtras(p: Provider): Readonly<Record<string, unknown>>;
  /** It takes the client's tools (and their calls and answers in the conversation). */
  takesTools: boolean;
  /** Parley checks this provider's liveness itself (its `/health`), and routes around it while it is down. */
  tracksLiveness: boolean;
  /** What a try says of the provider's liveness: up (true), down (false), or nothing (undefined). */
  liveness(evidence: LivenessEvidence): boolean | undefined;
  /** Breaks ties in routing priority: lower goes first. */
  tieRank: number;
  /** May be reached on private and loopback addresses whatever ALLOW_PRIVATE_UPSTREAMS says (Parley's own worker). */
  trusted(p: Provider): boolean;
};

/** Any server that speaks the OpenAI chat-completions API at the row's base URL: what every kind starts from. */
export const openAICompatible: ProviderAdapter = {
  resolve: (p) => p,
  unconfigured: () => undefined,
  headers: () => ({}),
  bodyExtras: () => ({}),
  takesTools: true,
  tracksLiveness: false,
  liveness: () => undefined,
  tieRank: 1,
  trusted: () => false,
};
