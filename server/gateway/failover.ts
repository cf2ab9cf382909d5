import type { FailoverRules } from "../../contracts/admin-schemas.js";
import type { ProviderCondition } from "./provider-status.js";
import type { LivenessEvidence } from "./providers/index.js";
import type { CallResult } from "./upstream-call.js";

export type FailedCall = Extract<CallResult, { ok: false }>;

/** What a failed try was, in the terms routing acts on. */
export type FailureKind =
  | "rate_limited"
  | "payment_required"
  | "credentials"
  | "context_too_long"
  | "rejected"
  | "unreachable"
  | "server_error"
  | "failed";

/** What routing does after a failed try (a provider row may choose it per HTTP status: its failover rules). */
export type FailoverAction = FailoverRules[string];

export type FailurePolicy = {
  /**
   * What routing does next: wait as long as Retry-After asks and try the same candidate again
   * (the next one when that is too long or unsaid), try the next candidate at once, or stop and
   * answer with the upstream's refusal.
   */
  then: FailoverAction;
  /** Whether the failure counts against the model's circuit, or only gives back the slot it held. */
  breaker: "failure" | "release";
  /** What admins are shown about the provider until it answers again. */
  mark?: Exclude<ProviderCondition, "ok">;
  /** What it says of the provider's liveness, for kinds that track it (the adapter decides). */
  liveness: LivenessEvidence;
};

/**
 * One row per kind of failure: the whole failover policy in one place. Retries and fallbacks in
 * LiteLLM's vocabulary: a 429 is retried on the same model when it says when, every other
 * transient failure falls back to the next model at once (a dead primary costs one round trip),
 * and a request that no model could accept is not sent again.
 */
export const FAILURE_POLICY: Readonly<Record<FailureKind, FailurePolicy>> = {
  rate_limited: { then: "retry_after", breaker: "failure", liveness: "other_error" },
  // Out of credit: routing goes on (credit can be topped up, a free model may still answer).
  payment_required: { then: "next", breaker: "failure", mark: "payment_required", liveness: "other_error" },
  // Our key is wrong: another try cannot help, and it is not the model's fault.
  credentials: { then: "stop", breaker: "release", mark: "misconfigured", liveness: "other_error" },
  // A conversation too long for this model (a small local context, typically) may fit the next one.
  context_too_long: { then: "next", breaker: "release", liveness: "other_error" },
  rejected: { then: "stop", breaker: "release", liveness: "other_error" },
  unreachable: { then: "next", breaker: "failure", liveness: "unreachable" },
  server_error: { then: "next", breaker: "failure", liveness: "server_error" },
  failed: { then: "next", breaker: "failure", liveness: "other_error" },
};

/** Statuses where the request itself is wrong for every model. */
const REJECTED = new Set([400, 404, 413, 422]);

/** Sorts a failed try into its kind. `isLast`: no candidate follows, so "too long" is the answer itself. */
export function classify(result: FailedCall, isLast: boolean): FailureKind {
  const s = result.status;
  if (s === undefined) return "unreachable";
  if (s === 429) return "rate_limited";
  if (s === 402) return "payment_required";
  if (s === 401 || s === 403) return "credentials";
  if (s === 400 && result.code === "context_length_exceeded" && !isLast) return "context_too_long";
  if (REJECTED.has(s)) return "rejected";
  if (s >= 500) return "server_error";
  return "failed";
}
