/** What the gateway tells admins, as plain types with no imports, so the dashboard can share them. */

import type { CircuitState, ProviderHealthState } from "../../contracts/enums.js";

export type { CircuitState, ProviderHealthState };

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
