import { describe, expect, it } from "vitest";
import { PathCache, type HistoryRow } from "../../server/chat/path-cache.js";

const row = (i: number, chars = 10): HistoryRow => ({ id: `m${i}`, parentId: i === 0 ? null : `m${i - 1}`, role: i % 2 ? "user" : "assistant", content: "x".repeat(chars), tokenCounts: {} });
const thread = (n: number, chars = 10) => Array.from({ length: n }, (_, i) => row(i, chars));
const ids = (rows: HistoryRow[] | undefined) => rows?.map((r) => r.id);

describe("the path cache", () => {
  it("tells the thread ending at any cached message, or at a message just written below one", () => {
    const cache = new PathCache(10_000);
    cache.set("s", thread(5), 1_000, true);
    expect(ids(cache.get("s", "m4", 1_000))).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(ids(cache.get("s", "m2", 1_000))).toEqual(["m0", "m1", "m2"]);
    const written = { ...row(9), id: "new", parentId: "m2" };
    expect(ids(cache.get("s", "new", 1_000, written))).toEqual(["m0", "m1", "m2", "new"]);
    // Not below a cached message, or not cached at all: a miss, never a guess.
    expect(cache.get("s", "other", 1_000, { ...written, id: "other", parentId: "elsewhere" })).toBeUndefined();
    expect(cache.get("s", "elsewhere", 1_000)).toBeUndefined();
    expect(cache.get("t", "m4", 1_000)).toBeUndefined();
    expect([cache.covers("s", "m2", 1_000), cache.covers("s", "elsewhere", 1_000), cache.covers("t", "m4", 1_000)]).toEqual([true, false, false]);
  });

  it("gives the newest messages within the characters asked for, the newest always, and no wider window than it read", () => {
    const cache = new PathCache(10_000);
    cache.set("s", thread(6, 10), 1_000, false);
    expect(ids(cache.get("s", "m5", 35))).toEqual(["m3", "m4", "m5"]);
    expect(ids(cache.get("s", "m5", 5))).toEqual(["m5"]);
    const long = { ...row(6, 50), id: "new", parentId: "m5" };
    expect(ids(cache.get("s", "new", 5, long))).toEqual(["new"]);
    expect(ids(cache.get("s", "new", 70, long))).toEqual(["m4", "m5", "new"]);
    // Read for 1,000 characters without reaching the start: a 2,000-character window is a miss.
    expect(cache.get("s", "m5", 2_000)).toBeUndefined();
    cache.set("c", thread(3), 1_000, true);
    expect(ids(cache.get("c", "m2", 2_000))).toEqual(["m0", "m1", "m2"]);
  });

  it("lets the least recently used conversation go once it holds more text than its bound", () => {
    const cache = new PathCache(100);
    cache.set("a", thread(4, 10), 1_000, true);
    cache.set("b", thread(4, 10), 1_000, true);
    cache.get("a", "m3", 1_000);
    cache.set("c", thread(4, 10), 1_000, true);
    expect(cache.get("b", "m3", 1_000)).toBeUndefined();
    expect(cache.leafOf("a")).toBe("m3");
    expect(cache.leafOf("c")).toBe("m3");
  });
});
