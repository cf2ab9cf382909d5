import type { ProviderKind } from "../../../contracts/enums.js";
import type { ProviderAdapter } from "./adapter.js";
import { chatWorker } from "./chat-worker.js";
import { openAICompatible } from "./adapter.js";
import { openRouter } from "./openrouter.js";

export type { AppIdentity, DeploymentSettings, LivenessEvidence, ProviderAdapter } from "./adapter.js";
export { SEEDED_WORKER } from "./chat-worker.js";

/** Every kind has its adapter: the Record's type fails the build if a kind is added without one. */
const ADAPTERS: Record<ProviderKind, ProviderAdapter> = {
  openrouter: openRouter,
  openai_compatible: openAICompatible,
  chat_worker: chatWorker,
};

export const adapterFor = (kind: ProviderKind): ProviderAdapter => ADAPTERS[kind];
