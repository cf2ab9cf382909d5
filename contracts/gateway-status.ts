/** What the gateway tells admins about routing: health, circuits, probes, and each try of a request. */
import type { CircuitState, ProviderHealthState } from "./enums.js";

export type { CircuitState, ProviderHealthState };

/** One try of one candidate: what it answered (an HTTP status, or an error) and how long it took. */
export type Attempt = { provider: string; model: string; status?: number; error?: string; ms: number };

/** Where rate limits are kept. */
export type RateStoreKind = "memory" | "redis" | "upstash";

/** What the health view says of the limits: where they are meant to be kept, and where they are now. */
export type RateLimitStatus = {
  store: RateStoreKind;
  active: RateStoreKind;
  degraded: boolean;
  /** Since when (epoch ms) a shared store has been failing, and its last error. */
  since?: number;
  error?: string;
};

export type ProviderHealth = {
  state: ProviderHealthState;
  lastError: string | null;
  circuits: { model: string; state: CircuitState; failures: number }[];
};

/** What a one-token test request found: how the provider answered and how long the first token took. */
export type ProbeResult = { ok: boolean; status: number | null; latencyMs: number; model: string; reply?: string; error?: string };

/** A model a provider offers, as its `/models` lists it (OpenRouter's fields when present). */
export type UpstreamModel = {
  id: string;
  name: string;
  contextLength: number | null;
  inputPricePerMtok: number | null;
  outputPricePerMtok: number | null;
};

export type WorkerHealthEntry = { isHealthy: boolean; lastCheck: string; responseTime: number | null; error?: string };
