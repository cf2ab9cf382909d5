import type { Query, SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Database } from "./client.js";

/** Parley's drizzle instances take no casing or other options, so any dialect writes the same SQL. */
const dialect = new PgDialect();

/** A driver's answer as rows: postgres-js answers an array, PGlite `{ rows }`. */
export const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []));

/**
 * A statement on the way to every reply, written once: drizzle walks a statement's template and
 * checks the kind of each part every time it builds one, which cost 50–250 µs of the event loop per
 * statement (about what Postgres spends running these). Built on first use with `sql.placeholder`s,
 * then sent with the values of each call. Works on a transaction as on the database (each has its
 * own session).
 */
export function prebuilt<Values extends Record<string, unknown>, Row = Record<string, unknown>>(build: () => SQL) {
  let query: Query | undefined;
  return async (db: Database, values: Values): Promise<Row[]> => {
    query ??= dialect.sqlToQuery(build());
    return rowsOf<Row>(await db._.session.prepareQuery(query, undefined, undefined, false).execute(values));
  };
}
