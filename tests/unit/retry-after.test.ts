import { describe, expect, it } from "vitest";
import { parseRetryAfter, withJitter } from "../../server/gateway/retry-after.js";

describe("Retry-After", () => {
  const now = Date.parse("2026-11-21T12:00:00Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("3", now)).toBe(3);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1.5);
  });

  it("reads an HTTP date as the seconds until then, and a past date as now", () => {
    expect(parseRetryAfter("Sat, 21 Nov 2026 12:00:05 GMT", now)).toBe(5);
    expect(parseRetryAfter("Sat, 21 Nov 2026 11:59:00 GMT", now)).toBe(0);
  });

  it("treats an absent or unreadable header as absent", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-3", now)).toBeUndefined();
  });

  it("adds up to 10 % jitter and never waits less than asked", () => {
    expect(withJitter(2, () => 0)).toBe(2000);
    expect(withJitter(2, () => 0.999)).toBe(2200);
    expect(withJitter(2, () => 0.5)).toBe(2100);
  });
});
