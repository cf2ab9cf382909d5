import type { Candidate } from "./types.js";

/**
 * Equal-priority models that carry a weight (two keys or two hosts of one model, say) share the
 * traffic in proportion to it: each request tries them in a weighted random order (Efraimidis and
 * Spirakis: each draws `u^(1/w)`, the largest goes first), the rest of the chain as routed. Models
 * without a weight keep the registry's order.
 */
export function balanced(candidates: readonly Candidate[], tieRank: (c: Candidate) => number, random: () => number = Math.random): Candidate[] {
  const out = [...candidates];
  let i = 0;
  while (i < out.length) {
    const first = out[i]!;
    let j = i + 1;
    const same = (c: Candidate) =>
      c.model.weight !== null && c.model.priority === first.model.priority && tieRank(c) === tieRank(first);
    if (first.model.weight !== null) while (j < out.length && same(out[j]!)) j++;
    if (j - i > 1) {
      const run = out.slice(i, j).map((c) => ({ c, key: Math.pow(random(), 1 / Math.max(c.model.weight!, 1e-9)) }));
      run.sort((a, b) => b.key - a.key);
      out.splice(i, j - i, ...run.map((r) => r.c));
    }
    i = j;
  }
  return out;
}
