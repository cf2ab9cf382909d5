/**
 * Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}

/**
 * The wait before retrying, with jitter so clients told the same Retry-After do not return in
 * one burst: the asked time plus up to 10 % more (never less than asked).
 */
export function withJitter(seconds: number, random: () => number = Math.random): number {
  return Math.round(seconds * 1000 * (1 + 0.1 * random()));
}
