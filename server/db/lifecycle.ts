import type { Logger } from "../logger.js";
import { dbUnavailable } from "../errors.js";
import { openDatabase, type Database, type DbHandle, type DbKind } from "./client.js";

export type DbStatus = DbKind | "unavailable";

/**
 * Owns the database connection. If the database cannot be reached at start-up the server still
 * runs (built-in scenarios, no sessions) and keeps retrying in the background, so a Postgres that
 * starts after Parley is picked up without a restart.
 */
export class DatabaseLifecycle {
  private handle: DbHandle | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError: string | undefined;

  constructor(
    private readonly opts: { databaseUrl?: string; dataDir: string; retryMs?: number },
    private readonly log: Logger,
    /** Runs once the schema is up to date: seeding, loading the registry. */
    private readonly onReady: (handle: DbHandle) => Promise<void>,
  ) {}

  /** Tries once; on failure schedules retries and resolves anyway. */
  async start(): Promise<void> {
    try {
      const handle = await openDatabase(this.opts);
      if (this.closed) return void (await handle.close());
      await this.onReady(handle);
      this.handle = handle;
      this.lastError = undefined;
      this.log.info({ db: handle.kind }, "database ready");
    } catch (err) {
      this.lastError = (err as Error).message;
      this.log.error({ err: redactUrl(this.lastError, this.opts.databaseUrl) }, "database unavailable; retrying in the background");
      if (!this.closed) this.retryTimer = setTimeout(() => void this.start(), this.opts.retryMs ?? 5000);
    }
  }

  /** Runs before the connection closes (stop listeners, flush buffered writes). */
  onClose: (() => Promise<void>)[] = [];

  /** The database this instance is configured for, reachable or not. */
  get kind(): DbKind {
    return this.opts.databaseUrl ? "postgres" : "pglite";
  }

  get db(): Database | undefined {
    return this.handle?.db;
  }

  /** The database, or a 503 AppError for routes that cannot work without it. */
  require(): Database {
    if (!this.handle) throw dbUnavailable();
    return this.handle.db;
  }

  async status(): Promise<DbStatus> {
    if (!this.handle) return "unavailable";
    try {
      await this.handle.ping();
      return this.handle.kind;
    } catch {
      return "unavailable";
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const hook of this.onClose) await hook().catch((err: Error) => this.log.error({ err: err.message }, "closing hook failed"));
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}

/** Connection errors can echo the URL, password included. */
function redactUrl(message: string, url: string | undefined): string {
  let out = message;
  if (url) out = out.split(url).join("[DATABASE_URL]");
  return out.replace(/(postgres(?:ql)?:\/\/[^:\s]+:)[^@\s]+@/g, "$1***@");
}
