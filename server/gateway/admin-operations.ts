import type { CircuitBreaker } from "./breaker.js";
import { publicOnly } from "./candidate-loop.js";
import { classify } from "./failover.js";
import type { Outcomes } from "./outcomes.js";
import { providerHealth } from "./provider-health.js";
import { listUpstreamModels, probeCandidate, type ProbeResult } from "./provider-probe.js";
import type { ProviderStatus } from "./provider-status.js";
import type { AppIdentity } from "./providers/index.js";
import type { Registry } from "./registry.js";
import type { WorkerHealth } from "./worker-health.js";

export type AdminOperationsOptions = {
  registry: Registry;
  breaker: CircuitBreaker;
  providerStatus: ProviderStatus;
  workerHealth: WorkerHealth;
  outcomes: Outcomes;
  app: AppIdentity;
  timeouts: { connectMs: number; firstByteMs: number };
  allowPrivateUpstreams?: boolean;
};

/** What the admin dashboard asks of the gateway, apart from the request path: test a provider, list its models, read health. */
export function createAdminOperations(opts: AdminOperationsOptions) {
  const { registry, breaker, providerStatus, workerHealth, outcomes } = opts;

  /**
   * A one-token request to one of a provider's models (its first in routing order when none is
   * named), for the admin's "Test" button. Its answer updates what admins are shown about the
   * provider, as a routed request's would, but never opens a circuit.
   */
  async function probe(providerId: string, modelId?: string): Promise<ProbeResult | undefined> {
    const provider = registry.provider(providerId);
    const model = registry.modelsOf(providerId).find((m) => (modelId ? m.id === modelId : true));
    if (!provider || !model) return undefined;
    const timeouts = {
      connectMs: provider.connectTimeoutMs ?? opts.timeouts.connectMs,
      firstByteMs: provider.firstByteTimeoutMs ?? opts.timeouts.firstByteMs,
    };
    const candidate = { provider, model };
    const result = await probeCandidate(candidate, registry.secretFor(provider), opts.app, timeouts, publicOnly(provider, opts.allowPrivateUpstreams));
    if (result.ok) outcomes.answered(candidate, result.latencyMs);
    else {
      const failed = { ok: false as const, status: result.status ?? undefined, error: result.error ?? "failed", unreachable: result.status === null };
      outcomes.failed(candidate, classify(failed, true), failed.error);
    }
    return result;
  }

  /** What a provider's `/models` offers; throws with a readable reason when it cannot be listed. */
  function upstreamModels(providerId: string) {
    const provider = registry.provider(providerId);
    if (!provider) return undefined;
    return listUpstreamModels(
      provider,
      registry.secretFor(provider),
      opts.app,
      Math.min(opts.timeouts.firstByteMs, 15_000),
      publicOnly(provider, opts.allowPrivateUpstreams),
    );
  }

  return {
    probe,
    upstreamModels,
    providerHealth: (providerId: string) => {
      const p = registry.provider(providerId);
      return p ? providerHealth({ registry, breaker, providerStatus, workerHealth }, p) : undefined;
    },
    status: () => ({ circuits: breaker.snapshot(), providers: providerStatus.snapshot(), workers: workerHealth.snapshot() }),
  };
}
