import { AppError } from "../errors.js";
import { errorCode } from "../error-report.js";

/**
 * Which database failures are the database's state rather than a bug of ours: the person gets a
 * 503 that says so (and can try again), not a 500.
 *
 * - `unreachable`: no connection (Postgres stopped, restarting, network gone).
 * - `storage`: connected, but it cannot write (disk full, read-only, I/O error).
 */
export type DatabaseFailure = "unreachable" | "storage";

const UNREACHABLE_CODES = new Set([
  // Node's socket errors
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  // postgres.js's own
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
  // SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped
  "57P01", "57P02", "57P03", "57P04",
]);

const STORAGE_CODES = new Set([
  // SQLSTATE: insufficient_resources, disk_full, out_of_memory, too_many_connections, io_error, read_only_sql_transaction
  "53000", "53100", "53200", "53300", "58030", "25006",
  "ENOSPC", "EROFS", "EACCES", "EPERM", "EIO", "EDQUOT",
]);

export function classifyDatabaseError(err: unknown): DatabaseFailure | undefined {
  const code = errorCode(err);
  const message = String((err as { cause?: { message?: unknown }; message?: unknown })?.cause?.message ?? (err as { message?: unknown })?.message ?? "");
  if (code) {
    if (UNREACHABLE_CODES.has(code) || code.startsWith("08")) return "unreachable";
    if (STORAGE_CODES.has(code)) return "storage";
    // insufficient_privilege is a grant problem, unless it is the files under the database that may not be written.
    if (code === "42501" && /could not (open|create|write|extend|fsync)/.test(message)) return "storage";
  }
  if (/PGlite is closed|database (is )?closed|Aborted\(\)/i.test(message)) return "unreachable";
  return undefined;
}

export function databaseFailureError(kind: DatabaseFailure, cause?: unknown): AppError {
  return kind === "storage"
    ? new AppError(503, "db_unavailable", "The database cannot save right now (its disk is full or read-only); nothing was changed. Try again in a moment", undefined, { cause })
    : new AppError(503, "db_unavailable", "The database is unavailable right now; sessions cannot be opened or saved. Try again in a moment", undefined, { cause });
}
