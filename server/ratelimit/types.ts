/** What a limiter allows: `limit` requests in any `windowMs`. */
export type RatePolicy = { name: string; limit: number; windowMs: number };

/** One decision, with what the RateLimit-* and Retry-After headers need. */
export type RateDecision = {
  allowed: boolean;
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
  /** When (epoch ms) the window will have room for a full `limit` again. */
  resetAt: number;
  /** When (epoch ms) the next request can pass: now when allowed, later when refused. */
  retryAt: number;
  /** What the store needs to take this request back out of the window (see Limiter.refund). */
  receipt?: string;
};

import type { RateLimitStatus, RateStoreKind as StoreKind } from "../../contracts/gateway-status.js";

export type { RateLimitStatus, StoreKind };

/** One policy on one store. Keys are opaque (already hashed): stores never see a credential. */
export interface Limiter {
  /** Counts a request if the window has room for it. */
  consume(key: string): Promise<RateDecision>;
  /** The decision `consume` would make, without counting anything. */
  peek(key: string): Promise<RateDecision>;
  /**
   * Takes a counted request back out of the window. Counting first and refunding after is how a
   * limit that only counts some requests (wrong admin tokens) stays one atomic step: parallel
   * requests cannot all see room before any of them is counted.
   */
  refund(key: string, decision: RateDecision): Promise<void>;
}

/** Where limits are kept: one connection, any number of policies on it. */
export interface RateStore {
  readonly kind: StoreKind;
  limiter(policy: RatePolicy): Limiter;
  /** Resolves when the store answers; used to notice that it is back after a failure. */
  ping(): Promise<void>;
  /** Calls `onLost` when the store's connection drops, so an outage shows before a request meets it. */
  watch?(onLost: (err: Error) => void): void;
  close(): Promise<void>;
}
