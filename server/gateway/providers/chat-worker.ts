import { openAICompatible, type ProviderAdapter } from "./adapter.js";
import { merge } from "../../merge.js";

/** The name of the worker Parley seeds and, when it runs one, starts itself. */
export const SEEDED_WORKER = "chat_worker";

/**
 * A local chat worker (worker/, or another llama.cpp-style server): its liveness is checked through
 * its `/health` and by every request's outcome, so routing skips it the moment it is down; on a tie
 * in priority it goes first (free and private). The seeded one lives wherever Parley's settings say.
 */
export const chatWorker: ProviderAdapter = {
  ...openAICompatible,
  resolve: (p, settings) => (p.name === SEEDED_WORKER && settings.chatWorkerUrl ? merge(p, { baseUrl: settings.chatWorkerUrl }) : p),
  unconfigured: (p, settings) => (p.name === SEEDED_WORKER && !settings.chatWorkerUrl ? "worker_not_configured" : undefined),
  tracksLiveness: true,
  // Parley's worker runs a chat template without tool calling; a tool request goes past it.
  takesTools: false,
  // A refused connection or a 5xx means the process is down or broken; a 4xx is about the request.
  liveness: (evidence) => (evidence === "answered" ? true : evidence === "other_error" ? undefined : false),
  tieRank: 0,
  trusted: (p) => p.name === SEEDED_WORKER,
};
