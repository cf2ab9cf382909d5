import type { CircuitBreaker } from "./breaker.js";
import type { CircuitState, ProviderHealth, ProviderHealthState } from "../../contracts/gateway-status.js";
import type { ProviderStatus } from "./provider-status.js";
import type { Registry } from "./registry.js";
import { adapterFor } from "./providers/index.js";
import type { Provider } from "./types.js";
import { healthKey, type WorkerHealth } from "./worker-health.js";

export type { ProviderHealth, ProviderHealthState };

export const breakerKeyOf = (providerName: string, modelKey: string) => `${providerName}/${modelKey}`;

/**
 * One word for an admin about each provider, the most actionable first: a missing key or a
 * rejected one, then no credit, then open circuits, then recent failures. Read from this
 * instance's memory: what its own requests and probes have seen.
 */
export function providerHealth(
  deps: { registry: Registry; breaker: CircuitBreaker; providerStatus: ProviderStatus; workerHealth: WorkerHealth },
  p: Provider,
): ProviderHealth {
  const { registry, breaker, providerStatus, workerHealth } = deps;
  const snapshot = breaker.snapshot();
  const circuits = registry.modelsOf(p.id).map((m) => {
    const snap = snapshot[breakerKeyOf(p.name, m.modelKey)];
    return { model: m.modelKey, state: snap?.state ?? ("closed" as CircuitState), failures: snap?.failures ?? 0, lastError: snap?.lastError };
  });
  const status = providerStatus.get(p.name);
  const worker = adapterFor(p.kind).tracksLiveness ? workerHealth.snapshot()[healthKey(p.name)] : undefined;
  const circuitError = circuits.find((c) => c.lastError)?.lastError ?? null;
  const result = (state: ProviderHealthState, lastError: string | null | undefined): ProviderHealth => ({
    state,
    lastError: lastError ?? null,
    circuits: circuits.map(({ model, state, failures }) => ({ model, state, failures })),
  });

  if (!p.isActive) return result("inactive", status?.lastError ?? circuitError);
  const skip = registry.providerSkipReason(p);
  if (skip === "missing_secret") return result("misconfigured", `The environment variable ${p.secretName} is not set`);
  if (skip === "worker_not_configured") return result("misconfigured", "No local worker runs: give Parley a model file or set CHAT_WORKER_URL");
  if (status?.condition === "misconfigured") return result("misconfigured", status.lastError);
  if (status?.condition === "payment_required") return result("payment_required", status.lastError);
  if (circuits.some((c) => c.state !== "closed")) return result("circuit_open", circuitError);
  if (worker && !worker.isHealthy) return result("failing", worker.error ?? "the health check failed");
  if (circuits.some((c) => c.failures > 0)) return result("failing", circuitError);
  return result("healthy", null);
}
