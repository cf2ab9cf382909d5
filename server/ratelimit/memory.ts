import type { Limiter, RateDecision, RatePolicy, RateStore } from "./types.js";

/**
 * The times of one key's counted requests, oldest first, from `head` on. Leaving the window moves
 * `head` instead of shifting the array: with a high limit (a team's key at thousands a minute) a
 * window holds a minute of requests, and taking the oldest off the front of an array of ~150,000
 * moved all of them, ~27 µs a request. The dead front is cut off once it is the larger half.
 */
type Window = { times: number[]; head: number };

/**
 * An exact sliding window kept in this process: each key holds the times of its counted requests
 * in the last window, oldest first. A decision touches one key, and a sweep at most once per window
 * drops keys that went quiet, so memory follows the number of active clients.
 */
export class MemoryLimiter implements Limiter {
  private hits = new Map<string, Window>();
  private lastSweep: number;

  constructor(
    private readonly policy: RatePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  consume(key: string): Promise<RateDecision> {
    return Promise.resolve(this.consumeSync(key));
  }

  peek(key: string): Promise<RateDecision> {
    return Promise.resolve(this.decide(key, false));
  }

  refund(key: string, decision: RateDecision): Promise<void> {
    const w = this.hits.get(key);
    const at = Number(decision.receipt);
    const i = w && decision.allowed ? w.times.lastIndexOf(at) : -1;
    if (w && i >= w.head) w.times.splice(i, 1);
    return Promise.resolve();
  }

  /** The same decision without a promise, for callers (and the benchmark) that need none. */
  consumeSync(key: string): RateDecision {
    return this.decide(key, true);
  }

  /** How many keys are held; for tests of the sweep. */
  get size(): number {
    return this.hits.size;
  }

  private decide(key: string, count: boolean): RateDecision {
    const now = this.now();
    const { limit, windowMs } = this.policy;
    if (now - this.lastSweep >= windowMs) this.sweep(now);
    const since = now - windowMs;
    let w = this.hits.get(key);
    if (w) {
      while (w.head < w.times.length && w.times[w.head]! <= since) w.head++;
      if (w.head > 64 && w.head * 2 > w.times.length) {
        w.times = w.times.slice(w.head);
        w.head = 0;
      }
    }
    let used = w ? w.times.length - w.head : 0;
    const allowed = used < limit;
    if (allowed && count) {
      if (!w) this.hits.set(key, (w = { times: [], head: 0 }));
      w.times.push(now);
      used++;
    } else if (w && used === 0) {
      this.hits.delete(key);
    }
    const times = w?.times ?? [];
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - used - (allowed && !count ? 1 : 0)),
      resetAt: used > 0 ? times[times.length - 1]! + windowMs : now,
      // Refused: a place opens when the request that filled the window leaves it.
      retryAt: allowed ? now : times[times.length - limit]! + windowMs,
      ...(allowed && count ? { receipt: String(now) } : {}),
    };
  }

  private sweep(now: number) {
    this.lastSweep = now;
    const since = now - this.policy.windowMs;
    for (const [key, w] of this.hits) if (w.times.length === w.head || w.times[w.times.length - 1]! <= since) this.hits.delete(key);
  }
}

export class MemoryStore implements RateStore {
  readonly kind = "memory" as const;
  constructor(private readonly now: () => number = Date.now) {}
  limiter(policy: RatePolicy): MemoryLimiter {
    return new MemoryLimiter(policy, this.now);
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
