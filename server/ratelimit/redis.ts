import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Limiter, RateDecision, RatePolicy, RateStore } from "./types.js";

/**
 * One decision, atomically, on Redis's own clock (so instances whose clocks differ still agree):
 * drop the key's requests older than the window, count the rest, add this one if there is room.
 * KEYS[1] the client's sorted set; ARGV limit, window ms, 1 to count (0 to peek), a unique member.
 * Returns allowed (1/0), requests held after the decision, Redis's now, the oldest held request,
 * the newest, and the one whose leaving opens a place when refused.
 */
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local allowed = 0
if used < limit then
  allowed = 1
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[4])
    redis.call('PEXPIRE', KEYS[1], window)
    used = used + 1
  end
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2] or now
local opener = now
if allowed == 0 then
  opener = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')[2]
end
return {allowed, used, now, tonumber(newest), tonumber(opener)}
`;

type ScriptResult = [allowed: number, used: number, now: number, newest: number, opener: number];

type LimiterRedis = Redis & {
  parleySlidingWindow(key: string, limit: number, windowMs: number, count: 0 | 1, member: string): Promise<ScriptResult>;
};

export type RedisStoreOptions = {
  url: string;
  /** A decision that takes longer fails, and the caller falls back to memory. */
  commandTimeoutMs?: number;
  keyPrefix?: string;
};

export class RedisStore implements RateStore {
  readonly kind = "redis" as const;
  private readonly redis: LimiterRedis;
  private readonly prefix: string;
  private seq = 0;
  private readonly instance = randomBytes(6).toString("base64url");

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.keyPrefix ?? "parley:rl:";
    this.redis = new Redis(opts.url, {
      // A decision waits for a connection being made (at start-up), but never longer than the
      // command timeout and never through a reconnect: then it fails and memory decides.
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      // Keep trying to reconnect, at most every second, for as long as Parley runs.
      retryStrategy: (times) => Math.min(100 * times, 1000),
    }) as LimiterRedis;
    this.redis.defineCommand("parleySlidingWindow", { numberOfKeys: 1, lua: SLIDING_WINDOW });
  }

  watch(onLost: (err: Error) => void): void {
    // A refused first connection, a dropped one, every failed reconnect: the limiter logs an
    // outage once however many of these it gets.
    this.redis.on("error", (err: Error) => onLost(err));
    this.redis.on("close", () => onLost(new Error("the connection to Redis closed")));
  }

  limiter(policy: RatePolicy): Limiter {
    const key = (k: string) => `${this.prefix}${policy.name}:${k}`;
    const decide = async (k: string, count: 0 | 1): Promise<RateDecision> => {
      const member = `${this.instance}${(this.seq++).toString(36)}`;
      const [allowed, used, now, newest, opener] = await this.redis.parleySlidingWindow(key(k), policy.limit, policy.windowMs, count, member);
      return {
        allowed: allowed === 1,
        limit: policy.limit,
        remaining: Math.max(0, policy.limit - used - (allowed === 1 && count === 0 ? 1 : 0)),
        resetAt: used > 0 ? newest + policy.windowMs : now,
        retryAt: allowed === 1 ? now : opener + policy.windowMs,
        ...(allowed === 1 && count === 1 ? { receipt: `${now}:${member}` } : {}),
      };
    };
    return {
      consume: (k) => decide(k, 1),
      peek: (k) => decide(k, 0),
      refund: async (k, d) => {
        if (d.receipt) await this.redis.zrem(key(k), d.receipt);
      },
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
