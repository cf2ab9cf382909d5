import { sql } from "drizzle-orm";
import type { Logger } from "../logger.js";
import { errorFields } from "../error-report.js";
import { openDatabase, type Database, type DbHandle, type DbKind } from "./client.js";
import { classifyDatabaseError, databaseFailureError, type DatabaseFailure } from "./failures.js";

export type DbStatus = DbKind | "unavailable";

/** What health says of the database beyond its kind: can it be reached, can it write, since when not. */
export type DbCondition = {
  status: DbStatus;
  writable: boolean;
  failure?: { kind: DatabaseFailure; since: number; error: string; code?: string };
};

/** A health check writes at most this often; checks in between reuse the answer. */
const WRITE_CHECK_MS = 1000;
/** While failing, a write is tried this often, so recovery shows without a request. */
const RECOVERY_PROBE_MS = 2000;

/**
 * Owns the database connection. If the database cannot be reached at start-up the server still
 * runs (built-in scenarios, no sessions) and keeps retrying in the background, so a Postgres that
 * starts after Parley is picked up without a restart.
 *
 * It also keeps the database's condition: a failure any caller meets (connection lost, disk full,
 * read-only) is reported here, logged once with its cause, shown by health, and probed until a
 * write succeeds again. An embedded database whose engine died is reopened.
 */
export class DatabaseLifecycle {
  private handle: DbHandle | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError: string | undefined;
  private failure: DbCondition["failure"];
  private lastWriteCheck: { at: number; ok: boolean } | undefined;
  private reopening: Promise<boolean> | undefined;
  private probes = 0;

  constructor(
    private readonly opts: { databaseUrl?: string; dataDir: string; retryMs?: number },
    private readonly log: Logger,
    /** Runs once the schema is up to date: seeding, loading the registry; again (`reopened`) after an embedded engine is reopened. */
    private readonly onReady: (handle: DbHandle, how: { reopened: boolean }) => Promise<void>,
  ) {}

  /** Tries once; on failure schedules retries and resolves anyway. */
  async start(): Promise<void> {
    try {
      const handle = await openDatabase(this.opts);
      if (this.closed) return void (await handle.close());
      await this.onReady(handle, { reopened: false });
      this.handle = handle;
      this.lastError = undefined;
      this.log.info({ db: handle.kind }, "database ready");
    } catch (err) {
      this.lastError = redactUrl(errorFields(err).err, this.opts.databaseUrl);
      this.log.error({ err: this.lastError, code: errorFields(err).code }, "database unavailable; retrying in the background");
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
    if (!this.handle) throw databaseFailureError("unreachable");
    return this.handle.db;
  }

  /**
   * Tells whether an error is the database failing (then it is recorded, and the caller should
   * answer 503) or something else. Safe to call with any error.
   */
  noteFailure(err: unknown): DatabaseFailure | undefined {
    const kind = classifyDatabaseError(err);
    if (!kind || this.closed) return kind;
    if (!this.failure) {
      const f = errorFields(err);
      this.failure = { kind, since: Date.now(), error: redactUrl(f.err, this.opts.databaseUrl), ...(f.code ? { code: f.code } : {}) };
      this.log.error({ kind, err: this.failure.error, code: f.code, db: this.kind }, "database failing; answering 503 until it recovers");
      this.scheduleProbe();
    }
    return kind;
  }

  async status(): Promise<DbStatus> {
    return (await this.condition()).status;
  }

  /** Reachable and writable, checked by a real write (at most once a second). */
  async condition(): Promise<DbCondition> {
    if (!this.handle) return { status: "unavailable", writable: false };
    if (!this.failure && (!this.lastWriteCheck || Date.now() - this.lastWriteCheck.at > WRITE_CHECK_MS)) {
      const ok = await this.writeCheck();
      this.lastWriteCheck = { at: Date.now(), ok };
    }
    const failure = this.failure;
    if (!failure) return { status: this.handle.kind, writable: true };
    return { status: failure.kind === "unreachable" ? "unavailable" : this.handle.kind, writable: false, failure };
  }

  /** One small write; a failure is recorded like any other. */
  private async writeCheck(): Promise<boolean> {
    const db = this.handle?.db;
    if (!db) return false;
    try {
      await db.execute(
        sql`insert into system_config (key, value) values ('writeCheck', to_jsonb(now())) on conflict (key) do update set value = excluded.value, updated_at = now()`,
      );
      return true;
    } catch (err) {
      if (!this.noteFailure(err)) this.log.warn(errorFields(err), "database write check failed");
      return false;
    }
  }

  private scheduleProbe() {
    if (this.closed || this.probeTimer) return;
    // Every 2 s at first, then less often (up to every 10 s) for a long outage.
    const wait = Math.min(RECOVERY_PROBE_MS * 2 ** Math.floor(this.probes++ / 5), 10_000);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, wait);
    this.probeTimer.unref();
  }

  private async probe() {
    if (this.closed || !this.failure) return;
    const failed = this.failure;
    // An embedded engine that met a file it could not write keeps failing on that file after the
    // cause is gone, until it is opened again: so the check is made on a fresh engine (opening
    // fails cleanly while the folder is still unwritable). Postgres reconnects by itself.
    const reopened = this.kind === "pglite" ? await this.reopen() : true;
    this.failure = undefined; // a failure during the check records itself again
    if (reopened && (await this.writeCheck())) {
      this.probes = 0;
      this.log.info({ db: this.kind, outageS: Math.round((Date.now() - failed.since) / 1000) }, "database is back");
      return;
    }
    this.failure ??= failed;
    this.failure.since = failed.since;
    this.scheduleProbe();
  }

  /** Closes the embedded engine and opens it again; resolves whether the new one is up. */
  private reopen(): Promise<boolean> {
    this.reopening ??= (async () => {
      // One process per data directory: the old engine lets go before the new one opens it.
      await this.handle?.close().catch(() => {});
      try {
        const handle = await openDatabase(this.opts);
        await this.onReady(handle, { reopened: true });
        this.handle = handle;
        this.log.warn({ db: this.kind }, "embedded database reopened");
        return true;
      } catch (err) {
        this.log.warn(errorFields(err), "the embedded database cannot be opened yet; trying again");
        return false;
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.probeTimer);
    for (const hook of this.onClose) await hook().catch((err: unknown) => this.log.error(errorFields(err), "closing hook failed"));
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
