import { describe, expect, it } from "vitest";
import { minuteOf, msUntilRoom, overLimit, windowOf, type Buckets } from "../../server/api-keys/counters.js";

/**
 * The wait a key's refusal names (Retry-After) against the window itself: at the time it names a
 * request is let in, and never noticeably earlier. The buckets move on at each minute's edge as
 * the counters' do: this minute's count becomes the last minute's.
 */
const at = (b: Buckets, now: number, later: number): Buckets => {
  const minutes = minuteOf(later) - minuteOf(now);
  if (minutes === 0) return b;
  const zero = { requests: 0, tokens: 0 };
  return { current: zero, previous: minutes === 1 ? b.current : zero };
};
// As the key's checks judge (`overLimit`): requests with this one counted, tokens by what was used.
const admitted = (field: "requests" | "tokens", b: Buckets, limit: number, now: number) => {
  const counted = field === "requests" ? { current: { ...b.current, requests: b.current.requests + 1 }, previous: b.previous } : b;
  return !overLimit(windowOf(counted, now), field, limit);
};

const cases: { field: "requests" | "tokens"; limit: number; current: number; previous: number; into: number }[] = [
  { field: "requests", limit: 1, current: 1, previous: 0, into: 10_000 },
  { field: "requests", limit: 1, current: 0, previous: 1, into: 30_000 },
  { field: "requests", limit: 1, current: 1, previous: 1, into: 59_000 },
  { field: "requests", limit: 10, current: 10, previous: 0, into: 5_000 },
  { field: "requests", limit: 10, current: 4, previous: 12, into: 20_000 },
  { field: "requests", limit: 10, current: 9, previous: 3, into: 40_000 },
  { field: "requests", limit: 60, current: 30, previous: 60, into: 1_000 },
  { field: "tokens", limit: 1000, current: 1200, previous: 0, into: 15_000 },
  { field: "tokens", limit: 1000, current: 300, previous: 1500, into: 10_000 },
  { field: "tokens", limit: 1000, current: 999, previous: 400, into: 50_000 },
];

describe("a key's wait for room in its minute window", () => {
  it.each(cases)("$field: limit $limit, this minute $current, the last $previous, $into ms in", ({ field, limit, current, previous, into }) => {
    const now = 1_000 * 60_000 + into;
    const other = field === "requests" ? "tokens" : "requests";
    const b: Buckets = { current: { [field]: current, [other]: 0 } as Buckets["current"], previous: { [field]: previous, [other]: 0 } as Buckets["previous"] };
    expect(admitted(field, b, limit, now)).toBe(false);
    // The first moment, in steps of 10 ms, at which the window lets a request in.
    let first = -1;
    for (let t = 0; t <= 130_000 && first < 0; t += 10) if (admitted(field, at(b, now, now + t), limit, now + t)) first = t;
    expect(first).toBeGreaterThan(0);
    const ms = msUntilRoom(b, field, limit, now);
    expect(admitted(field, at(b, now, now + ms), limit, now + ms)).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(first - 10);
    expect(ms).toBeLessThanOrEqual(first + 1_000);
  });
});
