import { Redis } from "ioredis";
import { minuteOf, windowOf, type KeyCounters, type Window } from "./counters.js";

/** A key's per-minute counts in Redis: one hash per key and minute (`r` requests, `t` tokens), gone after three minutes. */
export class RedisCounters implements KeyCounters {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = "parley:key:") {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, retryStrategy: (n) => Math.min(100 * n, 1000) });
  }

  private name = (keyId: string, minute: number) => `${this.prefix}${keyId}:${minute}`;

  async countRequest(keyId: string, now: number): Promise<Window> {
    const minute = minuteOf(now);
    const res = await this.redis
      .multi()
      .hincrby(this.name(keyId, minute), "r", 1)
      .expire(this.name(keyId, minute), 180)
      .hmget(this.name(keyId, minute), "t")
      .hmget(this.name(keyId, minute - 1), "r", "t")
      .exec();
    const [[, requests], , [, [tokens]], [, [prevR, prevT]]] = res as [[null, number], unknown, [null, (string | null)[]], [null, (string | null)[]]];
    return windowOf({ current: { requests, tokens: Number(tokens ?? 0) }, previous: { requests: Number(prevR ?? 0), tokens: Number(prevT ?? 0) } }, now);
  }

  async uncountRequest(keyId: string, now: number): Promise<void> {
    await this.redis.hincrby(this.name(keyId, minuteOf(now)), "r", -1);
  }

  async peek(keyId: string, now: number): Promise<Window> {
    const minute = minuteOf(now);
    const [[r, t], [pr, pt]] = await Promise.all([this.redis.hmget(this.name(keyId, minute), "r", "t"), this.redis.hmget(this.name(keyId, minute - 1), "r", "t")]);
    return windowOf({ current: { requests: Number(r ?? 0), tokens: Number(t ?? 0) }, previous: { requests: Number(pr ?? 0), tokens: Number(pt ?? 0) } }, now);
  }

  async addTokens(keyId: string, tokens: number, now: number): Promise<void> {
    const key = this.name(keyId, minuteOf(now));
    await this.redis.multi().hincrby(key, "t", tokens).expire(key, 180).exec();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
