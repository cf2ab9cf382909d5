import { and, eq, lt, sql } from "drizzle-orm";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { apiKeyMinutes } from "../db/schema.js";
import { merge } from "../merge.js";

/**
 * A key's requests and tokens over the last minute, shared by every instance: per-minute counts
 * (in Redis when configured, else in the database), read as a sliding window — this minute's count
 * plus the last minute's, weighted by how much of it is still inside the window. An estimate, but
 * never one that lets a burst of twice the limit through at a minute's edge.
 */
export interface KeyCounters {
  /** Counts one request now; what the window holds with it. */
  countRequest(keyId: string, now: number): Promise<Window>;
  /** Takes a request counted by `countRequest` back (it was refused by another limit). */
  uncountRequest(keyId: string, now: number): Promise<void>;
  /** What the window holds now, without counting. */
  peek(keyId: string, now: number): Promise<Window>;
  addTokens(keyId: string, tokens: number, now: number): Promise<void>;
  close(): Promise<void>;
}

/** This minute's and the last minute's counts. */
export type Buckets = { current: { requests: number; tokens: number }; previous: { requests: number; tokens: number } };
export type Window = Buckets & { requests: number; tokens: number };

export const minuteOf = (now: number) => Math.floor(now / 60_000);

/** The sliding estimate over the two minutes' counts. */
export function windowOf(b: Buckets, now: number): Window {
  const weight = 1 - (now % 60_000) / 60_000;
  return merge(b, { requests: b.current.requests + b.previous.requests * weight, tokens: b.current.tokens + b.previous.tokens * weight });
}

/**
 * Whether a window refuses a request: for requests, `w` counts the request itself and may reach
 * the limit; for tokens, which the request has not used yet, it must stay under it.
 */
export function overLimit(w: Window, field: "requests" | "tokens", limit: number): boolean {
  return field === "requests" ? w.requests > limit : w.tokens >= limit;
}

/**
 * When a request refused by `limit` would be let in (ms from now), if nothing else is counted
 * meanwhile: the last minute's share fades out as the window slides, then this minute's does.
 * `b` holds what the window holds without the request, which itself adds one (one request, or at
 * least one token): it is let in when the window and that one fit in the limit.
 */
export function msUntilRoom(b: Buckets, field: "requests" | "tokens", limit: number, now: number): number {
  const into = now % 60_000;
  const cur = b.current[field];
  const prev = b.previous[field];
  const room = limit - 1; // what the window may hold beside the request
  if (cur <= room && prev > 0) {
    const fraction = 1 - (room - cur) / prev; // of this minute, when prev * (1 - f) + cur <= room
    return Math.max(0, Math.ceil(fraction * 60_000 - into));
  }
  // This minute alone is too full: next minute it becomes the fading one.
  return 60_000 - into + Math.ceil(Math.max(0, 1 - room / Math.max(cur, 1)) * 60_000);
}

export class DatabaseCounters implements KeyCounters {
  constructor(private readonly database: DatabaseLifecycle) {}

  async countRequest(keyId: string, now: number): Promise<Window> {
    const db = this.database.require();
    const minute = minuteOf(now);
    // Sent together: the last minute's count is not this statement's to change, and the request
    // waits for one round trip to the database before its upstream is called, not two.
    const [[row], previous] = await Promise.all([
      db
        .insert(apiKeyMinutes)
        .values({ keyId, minute, requests: 1 })
        .onConflictDoUpdate({ target: [apiKeyMinutes.keyId, apiKeyMinutes.minute], set: { requests: sql`${apiKeyMinutes.requests} + 1` } })
        .returning({ requests: apiKeyMinutes.requests, tokens: apiKeyMinutes.tokens }),
      this.bucket(keyId, minute - 1),
    ]);
    // The first request of a minute clears the minutes no window reads any more.
    if (row!.requests === 1) await db.delete(apiKeyMinutes).where(and(eq(apiKeyMinutes.keyId, keyId), lt(apiKeyMinutes.minute, minute - 1)));
    return windowOf({ current: { requests: row!.requests, tokens: Number(row!.tokens) }, previous }, now);
  }

  async uncountRequest(keyId: string, now: number): Promise<void> {
    await this.database
      .require()
      .update(apiKeyMinutes)
      .set({ requests: sql`greatest(${apiKeyMinutes.requests} - 1, 0)` })
      .where(and(eq(apiKeyMinutes.keyId, keyId), eq(apiKeyMinutes.minute, minuteOf(now))));
  }

  async peek(keyId: string, now: number): Promise<Window> {
    const minute = minuteOf(now);
    const [current, previous] = await Promise.all([this.bucket(keyId, minute), this.bucket(keyId, minute - 1)]);
    return windowOf({ current, previous }, now);
  }

  async addTokens(keyId: string, tokens: number, now: number): Promise<void> {
    await this.database
      .require()
      .insert(apiKeyMinutes)
      .values({ keyId, minute: minuteOf(now), tokens })
      .onConflictDoUpdate({ target: [apiKeyMinutes.keyId, apiKeyMinutes.minute], set: { tokens: sql`${apiKeyMinutes.tokens} + ${tokens}` } });
  }

  private async bucket(keyId: string, minute: number) {
    const [row] = await this.database
      .require()
      .select({ requests: apiKeyMinutes.requests, tokens: apiKeyMinutes.tokens })
      .from(apiKeyMinutes)
      .where(and(eq(apiKeyMinutes.keyId, keyId), eq(apiKeyMinutes.minute, minute)));
    return { requests: row?.requests ?? 0, tokens: Number(row?.tokens ?? 0) };
  }

  async close(): Promise<void> {}
}

/**
 * Redis first and, while it fails, the database — shared by every instance too — so an outage of
 * Redis costs the keys' limits some precision, never a request (as rate limits fall back to memory).
 * After a failure Redis is left alone for a second before it is tried again.
 */
export class FallbackCounters implements KeyCounters {
  private downUntil = 0;
  private warned = false;

  constructor(
    private readonly primary: KeyCounters,
    private readonly fallback: KeyCounters,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly retryMs = 1000,
  ) {}

  private async use<T>(call: (c: KeyCounters) => Promise<T>): Promise<T> {
    if (Date.now() < this.downUntil) return call(this.fallback);
    try {
      const result = await call(this.primary);
      this.warned = false;
      return result;
    } catch (err) {
      this.downUntil = Date.now() + this.retryMs;
      if (!this.warned) this.log.warn({ error: (err as Error).message }, "Redis is unavailable: API keys' per-minute counts are kept in the database until it is back");
      this.warned = true;
      return call(this.fallback);
    }
  }

  countRequest = (keyId: string, now: number) => this.use((c) => c.countRequest(keyId, now));
  uncountRequest = (keyId: string, now: number) => this.use((c) => c.uncountRequest(keyId, now));
  peek = (keyId: string, now: number) => this.use((c) => c.peek(keyId, now));
  addTokens = (keyId: string, tokens: number, now: number) => this.use((c) => c.addTokens(keyId, tokens, now));
  close = async () => {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  };
}
