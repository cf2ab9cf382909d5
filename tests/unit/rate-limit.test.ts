import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { clientAddress } from "../../server/middleware/client-address.js";
import { MemoryLimiter } from "../../server/ratelimit/memory.js";
import { RateLimits } from "../../server/ratelimit/rate-limits.js";
import type { RateStore } from "../../server/ratelimit/types.js";

function clocked(limit = 3, windowMs = 60_000) {
  let t = 1_000_000;
  const limiter = new MemoryLimiter({ name: "t", limit, windowMs }, () => t);
  return { limiter, advance: (ms: number) => (t += ms), now: () => t };
}

describe("memory sliding window", () => {
  it("lets `limit` requests through in a window and refuses the next, with the time a place opens", () => {
    const { limiter, advance, now } = clocked();
    const first = limiter.consumeSync("a");
    expect(first).toEqual({ allowed: true, limit: 3, remaining: 2, resetAt: now() + 60_000, retryAt: now(), receipt: String(now()) });
    advance(10_000);
    expect(limiter.consumeSync("a").remaining).toBe(1);
    advance(10_000);
    expect(limiter.consumeSync("a").remaining).toBe(0);
    advance(5_000);
    const refused = limiter.consumeSync("a");
    // The first request (at t0) leaves the window at t0 + 60 s: 35 s from now.
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAt - now()).toBe(35_000);
    expect(refused.resetAt - now()).toBe(60_000 - 5_000);
  });

  it("slides: a place opens when the oldest request leaves the window, not at a fixed boundary", () => {
    const { limiter, advance } = clocked();
    for (let i = 0; i < 3; i++) {
      limiter.consumeSync("a");
      advance(20_000);
    }
    // The first request was 60 s ago less 1 ms; the others 40 s and 20 s ago.
    advance(-1);
    expect(limiter.consumeSync("a").allowed).toBe(false);
    advance(1);
    expect(limiter.consumeSync("a").allowed).toBe(true);
    expect(limiter.consumeSync("a").allowed).toBe(false);
  });

  it("does not count refused requests, so hammering does not push the wait further", () => {
    const { limiter, advance } = clocked(1);
    limiter.consumeSync("a");
    for (let i = 0; i < 50; i++) limiter.consumeSync("a");
    advance(60_000);
    expect(limiter.consumeSync("a").allowed).toBe(true);
  });

  it("stays exact while a long, full window slides, with refunds and refusals along the way", async () => {
    // A high limit and thousands of requests: the window's oldest leave from its front many times over.
    const limit = 500;
    const { limiter, advance, now } = clocked(limit, 1_000);
    const counted: number[] = [];
    for (let i = 0; i < 6_000; i++) {
      advance(i % 7 === 0 ? 3 : 1);
      const d = limiter.consumeSync("a");
      const live = counted.filter((at) => at > now() - 1_000);
      expect(d.allowed).toBe(live.length < limit);
      if (d.allowed) counted.push(now());
      expect(d.remaining).toBe(Math.max(0, limit - counted.filter((at) => at > now() - 1_000).length));
      if (!d.allowed) expect(d.retryAt).toBe(live[live.length - limit]! + 1_000);
      // Every 11th counted request is taken back out, as a refused key admission does.
      if (d.allowed && i % 11 === 0) {
        await limiter.refund("a", d);
        counted.splice(counted.lastIndexOf(now()), 1);
      }
    }
  });

  it("keeps clients apart", () => {
    const { limiter } = clocked(1);
    expect(limiter.consumeSync("a").allowed).toBe(true);
    expect(limiter.consumeSync("a").allowed).toBe(false);
    expect(limiter.consumeSync("b").allowed).toBe(true);
  });

  it("peeks without counting", async () => {
    const { limiter } = clocked(2);
    expect(await limiter.peek("a")).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.peek("a")).toMatchObject({ allowed: true, remaining: 1 });
    await limiter.consume("a");
    await limiter.consume("a");
    expect(await limiter.peek("a")).toMatchObject({ allowed: false, remaining: 0 });
  });

  it("forgets clients that went quiet, so memory follows the active ones", () => {
    const { limiter, advance } = clocked();
    for (let i = 0; i < 1000; i++) limiter.consumeSync(`client-${i}`);
    expect(limiter.size).toBe(1000);
    advance(60_001);
    limiter.consumeSync("new");
    expect(limiter.size).toBe(1);
  });
});

describe("refunds", () => {
  it("takes a counted request back out, so count-then-refund limits only the requests that stay counted", async () => {
    const { limiter } = clocked(2);
    const a = limiter.consumeSync("k");
    await limiter.refund("k", a);
    const b = limiter.consumeSync("k");
    const c = limiter.consumeSync("k");
    expect([b.allowed, c.allowed, limiter.consumeSync("k").allowed]).toEqual([true, true, false]);
    // A refused decision holds no place, so its refund changes nothing.
    const refused = limiter.consumeSync("k");
    await limiter.refund("k", refused);
    expect(limiter.consumeSync("k").allowed).toBe(false);
  });

  it("ignores the refund of a request that has already left the window: no request still counted is taken out", async () => {
    const { limiter, advance } = clocked(3, 1000);
    const early = limiter.consumeSync("k");
    advance(600);
    limiter.consumeSync("k");
    advance(600);
    // Counting this one moves the window past `early`, whose time stays in the array's dead front.
    expect(limiter.consumeSync("k").remaining).toBe(1);
    await limiter.refund("k", early);
    // Still two counted: one place left, then refused.
    expect(limiter.consumeSync("k")).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.consumeSync("k").allowed).toBe(false);
  });
});

describe("falling back to memory", () => {
  function flakyStore() {
    const state = { up: true, calls: 0 };
    const fail = () => Promise.reject(new Error("connection refused"));
    const store: RateStore = {
      kind: "redis",
      limiter: () => ({
        consume: () => (state.calls++, state.up ? Promise.resolve({ allowed: true, limit: 9, remaining: 8, resetAt: 0, retryAt: 0 }) : fail()),
        peek: fail,
        refund: () => Promise.resolve(),
      }),
      ping: () => (state.up ? Promise.resolve() : fail()),
      close: () => Promise.resolve(),
    };
    return { store, state };
  }

  it("decides in memory while the shared store fails, logs once, and returns when it answers a probe", async () => {
    const { store, state } = flakyStore();
    const logged: string[] = [];
    const log = { warn: (_: object, msg: string) => logged.push(`warn ${msg}`), info: (_: object, msg: string) => logged.push(`info ${msg}`) };
    const limits = new RateLimits(store, log, 20);
    const limiter = limits.limiter({ name: "t", limit: 2, windowMs: 60_000 });
    expect((await limiter.consume("a")).limit).toBe(9); // the shared store's answer
    state.up = false;
    const during = [await limiter.consume("a"), await limiter.consume("a"), await limiter.consume("a")];
    // Memory's own window (limit 2): never unlimited while the shared store is away.
    expect(during.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(limits.status()).toMatchObject({ store: "redis", active: "memory", degraded: true, error: "connection refused" });
    expect(state.calls).toBe(2); // after the first failure, requests stop trying the dead store
    expect(logged).toEqual(["warn rate-limit store failed; limiting in memory until it is back"]);
    state.up = true;
    await expect.poll(() => limits.status().degraded, { interval: 10 }).toBe(false);
    expect((await limiter.consume("a")).limit).toBe(9);
    expect(logged.at(-1)).toBe("info rate-limit store is back");
    await limits.close();
  });
});

describe("the client's address", () => {
  const app = (hops: number) => new Hono().get("/", (c) => c.text(clientAddress(c, hops)));
  const ask = async (hops: number, xff?: string) => {
    const res = await app(hops).request("/", { headers: xff ? { "x-forwarded-for": xff } : {} });
    return res.text();
  };

  it("ignores X-Forwarded-For unless proxies are trusted", async () => {
    expect(await ask(0, "203.0.113.9")).toBe("unknown"); // no socket under app.request
  });

  it("takes the entry the trusted proxy appended, not what the client wrote before it", async () => {
    expect(await ask(1, "1.1.1.1, 203.0.113.9")).toBe("203.0.113.9");
    expect(await ask(2, "1.1.1.1, 203.0.113.9, 10.0.0.2")).toBe("203.0.113.9");
    expect(await ask(1, "::ffff:198.51.100.4")).toBe("198.51.100.4");
  });
});

describe("rate-limit configuration", () => {
  it("reads the limit, proxies and stores, and refuses half an Upstash pair", () => {
    const c = loadConfig({ RATE_LIMIT_PER_MIN: "5", TRUST_PROXY: "true", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(c).toMatchObject({ rateLimitPerMin: 5, trustedProxies: 1, redisUrl: "redis://127.0.0.1:6379", upstash: undefined });
    expect(loadConfig({}).rateLimitPerMin).toBe(20);
    expect(loadConfig({}).trustedProxies).toBe(0);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustedProxies).toBe(2);
    expect(() => loadConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" })).toThrow(/go together/);
    expect(() => loadConfig({ REDIS_URL: "http://x" })).toThrow(/redis:\/\//);
    expect(() => loadConfig({ TRUST_PROXY: "yes" })).toThrow(/TRUST_PROXY/);
  });
});
