/** Every slot is busy and the queue is full: the caller answers 503 with Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterS: number) {
    super("the worker is busy");
  }
}

type Waiter<T> = { resolve: (slot: T) => void };

/**
 * A fixed set of slots (context sequences) and a bounded first-in-first-out queue in front of them.
 * A caller that gives up while queued leaves the queue; a released slot goes straight to the next waiter.
 */
export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiting: Waiter<T>[] = [];
  /** Recent time a slot was held, to tell a refused client roughly when to come back. */
  private averageHoldMs = 1000;

  constructor(
    private readonly slots: readonly T[],
    private readonly queueSize: number,
  ) {
    this.free = [...slots];
  }

  get total(): number {
    return this.slots.length;
  }

  get busy(): number {
    return this.slots.length - this.free.length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Takes a free slot — the one `rank` scores highest (the worker prefers the slot that already holds
   * the longest part of the prompt) — or waits for one.
   */
  acquire(signal: AbortSignal, rank: (slot: T) => number = () => 0): Promise<T> {
    signal.throwIfAborted();
    if (this.free.length > 0) return Promise.resolve(this.take(rank));
    if (this.waiting.length >= this.queueSize) throw new QueueFullError(this.retryAfterS());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiter.resolve = (slot) => {
        signal.removeEventListener("abort", onAbort);
        resolve(slot);
      };
      this.waiting.push(waiter);
    });
  }

  release(slot: T, heldMs: number): void {
    this.averageHoldMs = this.averageHoldMs * 0.8 + heldMs * 0.2;
    const next = this.waiting.shift();
    if (next) next.resolve(slot);
    else this.free.push(slot);
  }

  private take(rank: (slot: T) => number): T {
    let best = 0;
    for (let i = 1; i < this.free.length; i++) if (rank(this.free[i]!) > rank(this.free[best]!)) best = i;
    return this.free.splice(best, 1)[0]!;
  }

  /** The queue drains about `slots` requests per average hold; a whole number of seconds, at least 1. */
  private retryAfterS(): number {
    const waitMs = ((this.waiting.length + 1) / this.slots.length) * this.averageHoldMs;
    return Math.min(60, Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
