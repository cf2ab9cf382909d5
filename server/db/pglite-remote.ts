import path from "node:path";
import { Worker } from "node:worker_threads";
import { PROJECT_ROOT } from "../project-root.js";

type Result = { rows: unknown[]; affectedRows?: number; fields: { name: string; dataTypeID: number }[] };
type QueryOptions = { rowMode?: "array" | "object" };
type Request = { op: "query"; sql: string; params?: unknown[]; rowMode?: string; tx?: number } | { op: "begin" } | { op: "end"; tx: number; commit: boolean } | { op: "listen" | "unlisten"; channel: string } | { op: "close" };
type Reply = { id: number; result?: unknown; error?: Record<string, unknown> & { message: string } } | { notify: string; payload: string };

/** What drizzle's PGlite driver and Parley call on a PGlite client, answered by the database's thread. */
export type RemoteQueryable = { query<T = unknown>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Result & { rows: T[] }> };

const THREAD = path.join(PROJECT_ROOT, "server", "db", "pglite-thread.mjs");

/**
 * PGlite on its own thread (server/db/pglite-thread.mjs), shaped as the PGlite client drizzle's
 * driver takes: `query`, `transaction`, `listen`, `close`. Statements queue in the thread as they
 * would on one connection; while a transaction is open, PGlite itself holds every other statement
 * back until it ends, so a transaction sees only its own.
 */
export class RemotePglite implements RemoteQueryable {
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private nextId = 1;
  private closed: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: Reply) => this.onReply(m));
    worker.on("error", (err) => this.fail(err));
    worker.on("exit", (code) => this.fail(new Error(`PGlite is closed (its thread exited with code ${code})`)));
  }

  /** Opens (not creates: see initdbApart) the data directory in `dir` on a new thread. */
  static async open(dir: string, conf: string[]): Promise<RemotePglite> {
    // The thread's own JavaScript allocates little (its database lives in WebAssembly memory), yet
    // start-up grew its young generation to V8's default 32 MB, held until the memory reducer ran
    // some 20 s later: capped, the process's RSS after start is 11–25 MB lower (bench: idle memory).
    const worker = new Worker(THREAD, { workerData: { dir, conf }, resourceLimits: { maxYoungGenerationSizeMb: 12 } });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!("id" in m) || m.id !== 0) return;
        worker.off("message", onMessage);
        if (m.error) reject(toError(m.error));
        else resolve();
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`PGlite's thread exited with code ${code} while opening ${dir}`)));
    });
    await ready;
    worker.unref();
    return new RemotePglite(worker);
  }

  query<T = unknown>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Result & { rows: T[] }> {
    return this.ask({ op: "query", sql, params, rowMode: options.rowMode }) as Promise<Result & { rows: T[] }>;
  }

  /** Runs `callback` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(callback: (tx: RemoteQueryable) => Promise<T>): Promise<T> {
    const tx = (await this.ask({ op: "begin" })) as number;
    const inTx: RemoteQueryable = {
      query: <R>(sql: string, params: unknown[] = [], options: QueryOptions = {}) =>
        this.ask({ op: "query", sql, params, rowMode: options.rowMode, tx }) as Promise<Result & { rows: R[] }>,
    };
    let result: T;
    try {
      result = await callback(inTx);
    } catch (err) {
      await this.ask({ op: "end", tx, commit: false }).catch(() => {});
      throw err;
    }
    await this.ask({ op: "end", tx, commit: true });
    return result;
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.ask({ op: "listen", channel });
    }
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        await this.ask({ op: "unlisten", channel }).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.ask({ op: "close" }).catch(() => {});
    this.fail(new Error("PGlite is closed"));
    await this.worker.terminate();
  }

  private ask(req: Request): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The thread keeps the process alive only while a statement is under way, as a socket would.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...req });
    });
  }

  private onReply(m: Reply): void {
    if ("notify" in m) {
      for (const fn of this.listeners.get(m.notify) ?? []) fn(m.payload);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.error) p.reject(toError(m.error));
    else p.resolve(m.result);
  }

  /** Every statement waiting, and every later one, fails with `err`: the thread is gone. */
  private fail(err: Error): void {
    this.closed ??= err;
    for (const p of this.pending.values()) p.reject(this.closed);
    this.pending.clear();
  }
}

/** The thread's error as an Error again, with Postgres's fields (code, detail, constraint, …) on it. */
function toError(plain: Record<string, unknown> & { message: string }): Error {
  const { message, stack, name, ...fields } = plain;
  const err = Object.assign(new Error(message), fields);
  if (typeof name === "string") err.name = name;
  if (typeof stack === "string") err.stack = stack;
  return err;
}
