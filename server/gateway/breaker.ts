import type { CircuitState } from "../../contracts/gateway-status.js";

export type { CircuitState };

export type BreakerOptions = {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses before letting one probe through. */
  cooldownMs: number;
  now?: () => number;
};

type Circuit = { failures: number; openedAt?: number; probing: boolean; lastError?: string };

/**
 * One circuit per model. Closed: requests pass. After `failureThreshold` consecutive failures it
 * opens: requests skip the model without a call or a wait. After `cooldownMs` one request is let
 * through as a probe (half-open); its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private circuits = new Map<string, Circuit>();
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  private circuit(key: string): Circuit {
    let c = this.circuits.get(key);
    if (!c) this.circuits.set(key, (c = { failures: 0, probing: false }));
    return c;
  }

  state(key: string): CircuitState {
    const c = this.circuits.get(key);
    if (!c || c.openedAt === undefined) return "closed";
    return this.now() - c.openedAt >= this.opts.cooldownMs ? "half_open" : "open";
  }

  /** Whether a request may go to this model now; in half-open state only the first caller may. */
  tryAcquire(key: string): boolean {
    const state = this.state(key);
    if (state === "closed") return true;
    if (state === "open") return false;
    const c = this.circuit(key);
    if (c.probing) return false;
    c.probing = true;
    return true;
  }

  success(key: string): void {
    const c = this.circuit(key);
    c.failures = 0;
    c.openedAt = undefined;
    c.probing = false;
    c.lastError = undefined;
  }

  failure(key: string, error?: string): void {
    const c = this.circuit(key);
    c.failures++;
    c.lastError = error;
    if (c.probing || c.failures >= this.opts.failureThreshold) c.openedAt = this.now();
    c.probing = false;
  }

  /** A request let through that ended neither way (the client left): the probe slot is freed. */
  release(key: string): void {
    const c = this.circuits.get(key);
    if (c) c.probing = false;
  }

  snapshot(): Record<string, { state: CircuitState; failures: number; lastError?: string; openedAt?: string }> {
    const out: ReturnType<CircuitBreaker["snapshot"]> = {};
    for (const [key, c] of this.circuits) {
      out[key] = {
        state: this.state(key),
        failures: c.failures,
        ...(c.lastError ? { lastError: c.lastError } : {}),
        ...(c.openedAt !== undefined ? { openedAt: new Date(c.openedAt).toISOString() } : {}),
      };
    }
    return out;
  }
}
