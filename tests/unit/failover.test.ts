import { describe, expect, it } from "vitest";
import { classify, FAILURE_POLICY, type FailedCall } from "../../server/gateway/failover.js";
import { adapterFor } from "../../server/gateway/providers/index.js";

const failed = (status: number | undefined, code?: string): FailedCall => ({
  ok: false,
  status,
  error: "x",
  unreachable: status === undefined,
  ...(code ? { code } : {}),
});

describe("the failover policy table", () => {
  it("sorts each answer into one kind of failure", () => {
    expect(classify(failed(undefined), false)).toBe("unreachable");
    expect(classify(failed(429), false)).toBe("rate_limited");
    expect(classify(failed(402), false)).toBe("payment_required");
    expect(classify(failed(401), false)).toBe("credentials");
    expect(classify(failed(403), false)).toBe("credentials");
    expect(classify(failed(400, "context_length_exceeded"), false)).toBe("context_too_long");
    // With no candidate after it, a prompt too long for the last model is the answer itself.
    expect(classify(failed(400, "context_length_exceeded"), true)).toBe("rejected");
    for (const s of [400, 404, 413, 422]) expect(classify(failed(s), false)).toBe("rejected");
    for (const s of [500, 502, 503, 504]) expect(classify(failed(s), false)).toBe("server_error");
    for (const s of [200, 302, 408, 409]) expect(classify(failed(s), false)).toBe("failed");
  });

  it("stops only where another model cannot help, and counts against a circuit only what is the model's fault", () => {
    const stops = Object.entries(FAILURE_POLICY).filter(([, p]) => p.then === "stop").map(([k]) => k);
    expect(stops.sort()).toEqual(["credentials", "rejected"]);
    const released = Object.entries(FAILURE_POLICY).filter(([, p]) => p.breaker === "release").map(([k]) => k);
    expect(released.sort()).toEqual(["context_too_long", "credentials", "rejected"]);
    expect(FAILURE_POLICY.rate_limited.then).toBe("retry_after");
    expect(FAILURE_POLICY.payment_required.mark).toBe("payment_required");
    expect(FAILURE_POLICY.credentials.mark).toBe("misconfigured");
  });

  it("lets only a liveness-tracking kind read a failure as the provider being down", () => {
    const worker = adapterFor("chat_worker");
    expect(worker.liveness(FAILURE_POLICY.unreachable.liveness)).toBe(false);
    expect(worker.liveness(FAILURE_POLICY.server_error.liveness)).toBe(false);
    expect(worker.liveness(FAILURE_POLICY.rejected.liveness)).toBeUndefined();
    expect(worker.liveness("answered")).toBe(true);
    for (const kind of ["openrouter", "openai_compatible"] as const) {
      expect(adapterFor(kind).tracksLiveness).toBe(false);
      expect(adapterFor(kind).liveness(FAILURE_POLICY.unreachable.liveness)).toBeUndefined();
    }
  });
});
