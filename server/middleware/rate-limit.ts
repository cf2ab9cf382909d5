import { hash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";
import type { Limiter, RateDecision, RatePolicy } from "../ratelimit/types.js";
import { merge } from "../merge.js";

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** A client's key in a store: a hash of who they are, so no credential is ever written to Redis. */
export const rateKey = (identity: string) => hash("sha256", identity, "base64url").slice(0, 32);

export function describeWindow(windowMs: number): string {
  if (windowMs === 60_000) return "a minute";
  if (windowMs % 60_000 === 0) return `${windowMs / 60_000} minutes`;
  return `${Math.round(windowMs / 1000)} seconds`;
}

/** Whole seconds until a refused client may try again (at least 1): the Retry-After value. */
export const retryAfterS = (d: RateDecision, now = Date.now()) => Math.max(1, seconds(d.retryAt - now));

/** The IETF RateLimit header fields, on every limited response, refused or not. */
export const rateLimitHeaderValues = (d: RateDecision, now = Date.now()): Record<string, string> => ({
  "RateLimit-Limit": String(d.limit),
  "RateLimit-Remaining": String(d.remaining),
  "RateLimit-Reset": String(seconds(d.resetAt - now)),
});

/** Sets headers on the response Hono will build (the default), or wherever a route that writes its own response keeps them. */
export type HeaderSink = (c: Context, headers: Record<string, string>) => void;
const onResponse: HeaderSink = (c, headers) => {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
};

/** One window a request is counted against: the limiter, its policy (for the message), whose key. */
export type RateWindow = { limiter: Limiter; policy: RatePolicy; key: (c: Context) => string };

/**
 * Counts each request against every window given (a client's, its address's) and refuses it with
 * 429 when one of them is full; a refused request is taken back out of the windows it had already
 * counted in, so what is refused costs nothing. The headers describe the tightest window.
 */
export function rateLimit(windows: RateWindow[], headersTo: HeaderSink = onResponse, onRefused?: (policy: string) => void): MiddlewareHandler {
  return async (c, next) => {
    const counted: { w: RateWindow; key: string; d: RateDecision }[] = [];
    let shown: RateDecision | undefined;
    for (const w of windows) {
      const key = rateKey(w.key(c));
      const d = await w.limiter.consume(key);
      if (!d.allowed) {
        await Promise.all(counted.map((x) => x.w.limiter.refund(x.key, x.d)));
        onRefused?.(w.policy.name);
        const now = Date.now();
        const wait = retryAfterS(d, now);
        // A refusal is an error response, which Hono builds.
        onResponse(c, merge(rateLimitHeaderValues(d, now), { "Retry-After": String(wait) }));
        const whose = w.policy.name === "address" ? " from this network address" : "";
        throw new AppError(
          429,
          "rate_limited",
          `Too many requests${whose}: at most ${w.policy.limit} in ${describeWindow(w.policy.windowMs)}. Try again in ${wait} s.`,
        );
      }
      counted.push({ w, key, d });
      if (!shown || d.remaining < shown.remaining) shown = d;
    }
    if (shown) headersTo(c, rateLimitHeaderValues(shown));
    await next();
  };
}
