import { describe, expect, it } from "vitest";
import { balanced } from "../../server/gateway/balance.js";
import type { Candidate } from "../../server/gateway/types.js";

const c = (id: string, priority: number, weight: number | null, rank = 1) =>
  ({ provider: { name: `p-${rank}`, kind: rank === 0 ? "chat_worker" : "openrouter" }, model: { id, modelKey: id, priority, weight } }) as unknown as Candidate;
const rank = (x: Candidate) => (x.provider.kind === "chat_worker" ? 0 : 1);

/** A seeded generator: the same draws every run. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("balancing equal-priority models by weight", () => {
  it("sends each its share of first tries, in proportion to its weight", () => {
    const random = lcg(42);
    const list = [c("a", 1, 3), c("b", 1, 1), c("z", 2, null)];
    const first = { a: 0, b: 0 } as Record<string, number>;
    const N = 8000;
    for (let i = 0; i < N; i++) {
      const order = balanced(list, rank, random);
      first[order[0]!.model.id]!++;
      // The rest of the chain stays behind them.
      expect(order[2]!.model.id).toBe("z");
    }
    expect(first.a! / N).toBeGreaterThan(0.72);
    expect(first.a! / N).toBeLessThan(0.78);
  });

  it("leaves models without a weight, other priorities and other kinds' tie ranks in the registry's order", () => {
    const list = [c("w", 0, null, 0), c("a", 1, null), c("b", 1, null), c("c", 1, 5), c("d", 2, 5)];
    for (let i = 0; i < 50; i++) expect(balanced(list, rank, lcg(i)).map((x) => x.model.id)).toEqual(["w", "a", "b", "c", "d"]);
  });
});
