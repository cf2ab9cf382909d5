/**
 * What one rate-limit decision costs: in memory (the default), with the hashing the middleware
 * adds, and on Redis over loopback when redis-server is installed.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { MemoryLimiter } from "../server/ratelimit/memory.js";
import { RedisStore } from "../server/ratelimit/redis.js";
import { startTempRedis } from "../tests/support/redis.js";
import { fmt, pct } from "./stats.js";

const POLICY = { name: "bench", limit: 20, windowMs: 60_000 };
const CLIENTS = 10_000;
const DECISIONS = 200_000;
const REDIS_DECISIONS = 5_000;

const us = (ns: bigint) => Number(ns) / 1000;
const row = (name: string, xs: number[]) => `| ${name} | ${fmt(pct(xs, 50))} | ${fmt(pct(xs, 99))} | ${fmt(pct(xs, 99.9))} |`;

export async function benchRateLimit(): Promise<string> {
  // Memory: clients come round again and again until each window holds its 20; the last ones are refused.
  const limiter = new MemoryLimiter(POLICY);
  const keys = Array.from({ length: CLIENTS }, (_, i) => createHash("sha256").update(`client-${i}`).digest("base64url").slice(0, 32));
  for (let i = 0; i < 20_000; i++) limiter.consumeSync(keys[i % CLIENTS]!); // warm-up
  const memory: number[] = [];
  let allowed = 0;
  for (let i = 0; i < DECISIONS; i++) {
    const t = process.hrtime.bigint();
    if (limiter.consumeSync(keys[(i * 7919) % CLIENTS]!).allowed) allowed++;
    memory.push(us(process.hrtime.bigint() - t));
  }
  // The middleware's whole share: hashing the identity, then the decision through the promise.
  const hashed: number[] = [];
  for (let i = 0; i < DECISIONS / 4; i++) {
    const t = process.hrtime.bigint();
    const key = createHash("sha256").update(`browser:${i % CLIENTS}|127.0.0.1`).digest("base64url").slice(0, 32);
    await limiter.consume(key);
    hashed.push(us(process.hrtime.bigint() - t));
  }

  const lines = [
    `## Rate-limit decisions`,
    ``,
    `${DECISIONS.toLocaleString("en")} decisions in memory over ${CLIENTS.toLocaleString("en")} clients (20 per minute each, so windows hold up to 20`,
    `entries; ${allowed.toLocaleString("en")} allowed, the rest refused on a full window), then ${(DECISIONS / 4).toLocaleString("en")} with the middleware's`,
    `hashing and promise; Redis: ${REDIS_DECISIONS.toLocaleString("en")} sequential decisions over loopback, one Lua script each.`,
    ``,
    `| decision (µs) | p50 | p99 | p99.9 |`,
    `|---|---|---|---|`,
    row("memory, the decision", memory),
    row("memory, hash + decision (what a request pays)", hashed),
  ];

  if (existsSync("/usr/bin/redis-server")) {
    const redis = await startTempRedis();
    const store = new RedisStore({ url: redis.url });
    try {
      const onRedis = store.limiter(POLICY);
      for (let i = 0; i < 500; i++) await onRedis.consume(keys[i % 100]!);
      const times: number[] = [];
      for (let i = 0; i < REDIS_DECISIONS; i++) {
        const t = process.hrtime.bigint();
        await onRedis.consume(keys[i % 1000]!);
        times.push(us(process.hrtime.bigint() - t));
      }
      lines.push(row("Redis over loopback (round trip included)", times));
    } finally {
      await store.close();
      await redis.close();
    }
  } else {
    lines.push(``, `(redis-server is not installed: no Redis figures.)`);
  }
  lines.push(``, `Median memory decision: **${fmt(pct(memory, 50))} µs**; with hashing: **${fmt(pct(hashed, 50))} µs**.`, ``);
  return lines.join("\n");
}
