import { MemoryStore } from "./memory.js";
import type { Limiter, RateDecision, RateLimitStatus, RatePolicy, RateStore } from "./types.js";
import { scrubMessage } from "../error-report.js";

export type { RateLimitStatus };

export type RateLimitsLog = {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
};

/**
 * The limits of this process on a shared store (Redis, Upstash) with memory behind it: when the
 * shared store fails, decisions go on in memory (per instance, so looser across instances, but
 * never unlimited), the outage is logged once, and a probe every `probeMs` brings the shared store
 * back as soon as it answers. Without a shared store, memory is the store.
 */
export class RateLimits {
  private readonly memory = new MemoryStore();
  private failure: { since: number; error: string } | undefined;
  private probe: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly shared: RateStore | undefined,
    private readonly log: RateLimitsLog,
    private readonly probeMs = 1000,
  ) {
    shared?.watch?.((err) => this.fail(err));
  }

  limiter(policy: RatePolicy): Limiter {
    const fallback = this.memory.limiter(policy);
    const primary = this.shared?.limiter(policy);
    if (!primary) return fallback;
    // A decision remembers which store made it, so its refund goes back to the same one.
    const madeInMemory = new WeakSet<RateDecision>();
    const inMemory = (d: RateDecision) => (madeInMemory.add(d), d);
    const decide = async (method: "consume" | "peek", key: string): Promise<RateDecision> => {
      if (this.failure) return inMemory(await fallback[method](key));
      try {
        return await primary[method](key);
      } catch (err) {
        this.fail(err as Error);
        return inMemory(await fallback[method](key));
      }
    };
    return {
      consume: (key) => decide("consume", key),
      peek: (key) => decide("peek", key),
      refund: async (key, d) => {
        if (madeInMemory.has(d)) return fallback.refund(key, d);
        // A refund that cannot be made leaves the request counted: stricter, never looser.
        await primary.refund(key, d).catch((err: Error) => this.fail(err));
      },
    };
  }

  status(): RateLimitStatus {
    const store = this.shared?.kind ?? "memory";
    if (!this.failure) return { store, active: store, degraded: false };
    return { store, active: "memory", degraded: true, since: this.failure.since, error: this.failure.error };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probe);
    this.probe = undefined;
    await this.shared?.close();
  }

  private fail(err: Error) {
    if (this.failure || this.closed) return;
    this.failure = { since: Date.now(), error: scrubMessage(err.message) };
    this.log.warn({ store: this.shared!.kind, err: this.failure.error }, "rate-limit store failed; limiting in memory until it is back");
    this.scheduleProbe();
  }

  private scheduleProbe() {
    if (this.closed) return;
    this.probe = setTimeout(() => {
      this.shared!.ping().then(
        () => {
          const outageS = Math.round((Date.now() - this.failure!.since) / 1000);
          this.failure = undefined;
          this.probe = undefined;
          this.log.info({ store: this.shared!.kind, outageS }, "rate-limit store is back");
        },
        // The error shown stays the one that started the outage: a failed ping says less.
        () => this.scheduleProbe(),
      );
    }, this.probeMs);
    this.probe.unref();
  }
}
