import { FAILURE_POLICY, type FailureKind } from "./failover.js";
import type { ProviderStatus } from "./provider-status.js";
import { adapterFor, type LivenessEvidence } from "./providers/index.js";
import type { Candidate, Provider } from "./types.js";
import type { WorkerHealth } from "./worker-health.js";

/**
 * What a provider's answers teach, kept where routing and admins read it: its condition (out of
 * credit, a wrong key) and, for kinds that track it, its liveness. Routed requests and the admin's
 * probe report the same way; the circuit breaker is the candidate loop's alone.
 */
export function createOutcomes(deps: { providerStatus: ProviderStatus; workerHealth: WorkerHealth }) {
  const { providerStatus, workerHealth } = deps;

  function liveness(p: Provider, evidence: LivenessEvidence, ms: number | null, error?: string): void {
    const up = adapterFor(p.kind).liveness(evidence);
    if (up !== undefined) workerHealth.report(p.name, up, up ? ms : null, error);
  }

  return {
    /** Whether routing may try the provider now, by its own liveness signal (a worker that is down is skipped). */
    isLive: (p: Provider): boolean => !adapterFor(p.kind).tracksLiveness || workerHealth.isUsable(p.name),

    answered(c: Candidate, ms: number): void {
      liveness(c.provider, "answered", ms);
      providerStatus.ok(c.provider.name, c.model.modelKey);
    },

    failed(c: Candidate, kind: FailureKind, error: string): void {
      const policy = FAILURE_POLICY[kind];
      if (policy.mark) providerStatus.mark(c.provider.name, policy.mark, c.model.modelKey, error);
      liveness(c.provider, policy.liveness, null, error);
    },

    /** The connection broke mid-reply: a worker that died then is skipped by the next request, before the next probe. */
    streamLost(c: Candidate, error: string): void {
      liveness(c.provider, "stream_lost", null, error);
    },
  };
}

export type Outcomes = ReturnType<typeof createOutcomes>;
