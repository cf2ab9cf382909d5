import { RedisStore } from "./redis.js";
import type { RateStore } from "./types.js";
import { UpstashStore } from "./upstash.js";

export type RateStoreConfig = {
  redisUrl: string | undefined;
  upstash: { url: string; token: string } | undefined;
};

/** The shared store the configuration names, if any: REDIS_URL first, then Upstash's REST pair. */
export function sharedRateStore(config: RateStoreConfig): RateStore | undefined {
  if (config.redisUrl) return new RedisStore({ url: config.redisUrl });
  if (config.upstash) return new UpstashStore(config.upstash);
  return undefined;
}
