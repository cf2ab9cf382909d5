import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";
import type { Limiter, RateDecision, RatePolicy } from "../ratelimit/types.js";

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** A client's key in a store: a hash of who they are, so no credential is ever written to Redis. */
export const rateKey = (identity: string) => createHash("sha256").update(identity).digest("base64url").slice(0, 32);

export function describeWindow(windowMs: number): string {
  if (windowMs === 60_000) return "a minute";
  if (windowMs % 60_000 === 0) return `${windowMs / 60_000} minutes`;
  return `${Math.round(windowMs / 1000)} seconds`;
}

/** Whole seconds until a refused client may try again (at least 1): the Retry-After value. */
export const retryAfterS = (d: RateDecision, now = Date.now()) => Math.max(1, seconds(d.retryAt - now));

/** The IETF RateLimit header fields, on every limited response, refused or not. */
export function rateLimitHeaders(c: Context, d: RateDecision, now = Date.now()) {
  c.header("RateLimit-Limit", String(d.limit));
  c.header("RateLimit-Remaining", String(d.remaining));
  c.header("RateLimit-Reset", String(seconds(d.resetAt - now)));
}

/**
 * Counts each request against its client's window and refuses it with 429 when the window is full.
 * The client's identity is a session cookie or an API key's fingerprint, with an address.
 */
export function rateLimit(limiter: Limiter, policy: RatePolicy, identify: (c: Context) => string): MiddlewareHandler {
  return async (c, next) => {
    const decision = await limiter.consume(rateKey(identify(c)));
    const now = Date.now();
    rateLimitHeaders(c, decision, now);
    if (!decision.allowed) {
      const wait = retryAfterS(decision, now);
      c.header("Retry-After", String(wait));
      throw new AppError(
        429,
        "rate_limited",
        `Too many requests: at most ${policy.limit} in ${describeWindow(policy.windowMs)}. Try again in ${wait} s.`,
      );
    }
    await next();
  };
}
