/**
 * A sliding-window counter in memory: at most `limit` hits per key within any `windowMs`.
 * Keys with no recent hits are dropped, so memory follows the number of active keys.
 */
export class SlidingWindow {
  private hits = new Map<string, number[]>();

  constructor(
    private readonly opts: { limit: number; windowMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private recent(key: string): number[] {
    const since = this.now() - this.opts.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.hits.delete(key);
    else this.hits.set(key, list);
    return list;
  }

  /** Whether another hit is allowed now, and if not, in how many whole seconds one will be. */
  check(key: string): { allowed: true } | { allowed: false; retryAfterS: number } {
    const list = this.recent(key);
    if (list.length < this.opts.limit) return { allowed: true };
    const oldest = list[list.length - this.opts.limit]!;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((oldest + this.opts.windowMs - this.now()) / 1000)) };
  }

  hit(key: string): void {
    const list = this.recent(key);
    list.push(this.now());
    this.hits.set(key, list);
  }

  reset(key: string): void {
    this.hits.delete(key);
  }
}
