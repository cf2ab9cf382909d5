/** Percentile by nearest rank: enough for benchmark tables. */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export const median = (xs: number[]) => pct(xs, 50);

export const fmt = (n: number) => n.toFixed(2);
