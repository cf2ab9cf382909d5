import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DbKind = "pglite" | "postgres";

export type DbHandle = {
  db: Database;
  kind: DbKind;
  ping(): Promise<boolean>;
  /** Calls `onMessage` for each NOTIFY on `channel`; resolves to a function that stops listening. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Opens the database and brings its schema up to date. Postgres when a URL is given,
 * otherwise PGlite (Postgres compiled to WASM) in `<dataDir>/pglite`; the same migrations serve both,
 * and drizzle's journal table makes re-running them a no-op.
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<DbHandle> {
  const handle = opts.databaseUrl ? await openPostgres(opts.databaseUrl) : await openPglite(opts.dataDir);
  try {
    await handle.migrate();
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  const { migrate: _, ...rest } = handle;
  return rest;
}

async function openPglite(dataDir: string) {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = path.join(dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const client = yieldingBetweenQueries(await PGlite.create(dir));
  const db = drizzle({ client, schema });
  return {
    db: db as unknown as Database,
    kind: "pglite" as const,
    migrate: () => migrate(db, { migrationsFolder }),
    ping: async () => {
      await client.query("select 1");
      return true;
    },
    listen: async (channel: string, onMessage: (payload: string) => void) => {
      const unlisten = await client.listen(channel, onMessage);
      return () => unlisten();
    },
    close: () => client.close(),
  };
}

type PgliteClient = import("@electric-sql/pglite").PGlite;
type PgliteTransaction = import("@electric-sql/pglite").Transaction;
type PgliteQuery = PgliteClient["query"];

/**
 * PGlite runs each query synchronously on this thread and hands back a settled promise, so a route
 * awaiting ten queries ran them all in one turn of the event loop (50–100 ms in which no other
 * stream moved). A turn is given back before each query, as a network database gives it while it waits.
 */
function yieldingBetweenQueries(client: PgliteClient): PgliteClient {
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const yielding = (query: PgliteQuery): PgliteQuery =>
    (async (...args: Parameters<PgliteQuery>) => {
      await turn();
      return query(...args);
    }) as PgliteQuery;
  client.query = yielding(client.query.bind(client));
  const transaction = client.transaction.bind(client);
  client.transaction = (<T>(callback: (tx: PgliteTransaction) => Promise<T>) =>
    transaction((tx: PgliteTransaction) => {
      tx.query = yielding(tx.query.bind(tx));
      return callback(tx);
    })) as PgliteClient["transaction"];
  return client;
}

async function openPostgres(url: string) {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  // prepare:false keeps us compatible with transaction poolers (Supabase's port 6543, PgBouncer).
  const client = postgres(url, { max: 10, prepare: false, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle({ client, schema });
  return {
    db: db as unknown as Database,
    kind: "postgres" as const,
    migrate: async () => {
      // Several instances may start together: one migrates while the others wait on the lock.
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(7253010301)`;
        await migrate(db, { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(7253010301)`.catch(() => {});
        lock.release();
      }
    },
    ping: async () => {
      await db.execute(sql`select 1`);
      return true;
    },
    listen: async (channel: string, onMessage: (payload: string) => void) => {
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}
