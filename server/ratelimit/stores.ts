import type { RateStore } from "./types.js";

export type RateStoreConfig = {
  redisUrl: string | undefined;
  upstash: { url: string; token: string } | undefined;
};

/**
 * The shared store the configuration names, if any: REDIS_URL first, then Upstash's REST pair.
 * Each client library is loaded only when named (ioredis alone holds ~30 MB).
 */
export async function sharedRateStore(config: RateStoreConfig): Promise<RateStore | undefined> {
  if (config.redisUrl) return new (await import("./redis.js")).RedisStore({ url: config.redisUrl });
  if (config.upstash) return new (await import("./upstash.js")).UpstashStore(config.upstash);
  return undefined;
}
