import type { Limiter, RateDecision, RatePolicy, RateStore } from "./types.js";

/**
 * An exact sliding window kept in this process: each key holds the times of its counted requests
 * in the last window, oldest first. A decision touches one key, and a sweep at most once per window
 * drops keys that went quiet, so memory follows the number of active clients.
 */
export class MemoryLimiter implements Limiter {
  private hits = new Map<string, number[]>();
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
    const list = this.hits.get(key);
    const at = Number(decision.receipt);
    const i = list && decision.allowed ? list.lastIndexOf(at) : -1;
    if (i >= 0) list!.splice(i, 1);
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
    let list = this.hits.get(key);
    if (list) {
      let drop = 0;
      while (drop < list.length && list[drop]! <= since) drop++;
      if (drop > 0) list.splice(0, drop);
    }
    const used = list?.length ?? 0;
    const allowed = used < limit;
    if (allowed && count) {
      if (!list) this.hits.set(key, (list = []));
      list.push(now);
    } else if (list && list.length === 0) {
      this.hits.delete(key);
    }
    const held = list ?? [];
    const after = held.length;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - after - (allowed && !count ? 1 : 0)),
      resetAt: after > 0 ? held[after - 1]! + windowMs : now,
      // Refused: a place opens when the request that filled the window leaves it.
      retryAt: allowed ? now : held[after - limit]! + windowMs,
      ...(allowed && count ? { receipt: String(now) } : {}),
    };
  }

  private sweep(now: number) {
    this.lastSweep = now;
    const since = now - this.policy.windowMs;
    for (const [key, list] of this.hits) if (list.length === 0 || list[list.length - 1]! <= since) this.hits.delete(key);
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
