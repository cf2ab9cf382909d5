import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import type { Limiter, RatePolicy, RateStore } from "./types.js";

export type UpstashStoreOptions = { url: string; token: string; keyPrefix?: string };

/**
 * Upstash's REST Redis, through its own rate-limit library: its sliding window approximates the
 * last window from two fixed ones (the previous weighted by how much of it still overlaps), which
 * costs two counters per client instead of one entry per request.
 */
export class UpstashStore implements RateStore {
  readonly kind = "upstash" as const;
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(opts: UpstashStoreOptions) {
    this.prefix = opts.keyPrefix ?? "parley:rl:";
    // No retries inside the client: a failed call falls back to memory at once instead of waiting.
    this.redis = new Redis({ url: opts.url, token: opts.token, retry: { retries: 0 }, enableTelemetry: false });
  }

  limiter(policy: RatePolicy): Limiter {
    const ratelimit = new Ratelimit({
      redis: this.redis,
      limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowMs} ms`),
      prefix: `${this.prefix}${policy.name}`,
      // 0: a failure throws (and Parley falls back to memory) instead of letting requests through unlimited.
      timeout: 0,
      analytics: false,
      enableTelemetry: false,
    });
    return {
      consume: async (key) => {
        const r = await ratelimit.limit(key);
        const now = Date.now();
        return { allowed: r.success, limit: r.limit, remaining: r.remaining, resetAt: r.reset, retryAt: r.success ? now : r.reset };
      },
      // Upstash's window takes a negative rate as a refund.
      refund: async (key, d) => {
        if (d.allowed) await ratelimit.limit(key, { rate: -1 });
      },
      peek: async (key) => {
        const r = await ratelimit.getRemaining(key);
        const now = Date.now();
        const allowed = r.remaining > 0;
        return { allowed, limit: r.limit, remaining: Math.max(0, r.remaining - 1), resetAt: r.reset, retryAt: allowed ? now : r.reset };
      },
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {}
}
