import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { PROJECT_ROOT } from "../project-root.js";
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

const migrationsFolder = path.join(PROJECT_ROOT, "server", "db", "migrations");

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
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = path.join(dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, "PG_VERSION"))) await initdbApart(dir);
  const { RemotePglite } = await import("./pglite-remote.js");
  const client = await RemotePglite.open(dir, PGLITE_CONF);
  const db = drizzle({ client: client as unknown as import("@electric-sql/pglite").PGlite, schema });
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

/**
 * Postgres's default 128 MB of shared buffers is sized for a server; PGlite keeps all of it in this
 * process's WebAssembly memory, which never shrinks. 16 MB holds a long conversation's pages (the
 * files under it are in the OS's page cache anyway): PGlite itself idles at ~165 MB instead of ~300.
 * 32 MB took Parley's first start to 252 MB in one bench run (the target is 250); the first reply
 * after opening a 10,000-message thread (a cold walk of its rows) measured 38–66 ms either way.
 */
const PGLITE_CONF = ["shared_buffers=16MB"];

/**
 * Creates a new data directory, with the schema, in a child process. initdb grows PGlite's
 * WebAssembly memory to ~800 MB and the first migrations add more, and a process keeps what it grew
 * (WebAssembly memory never shrinks; glibc keeps what was freed): done apart, Parley's own process
 * starts at the size of opening an existing directory.
 */
async function initdbApart(dir: string): Promise<void> {
  // Made beside it and renamed into place: a start cut short never leaves a half-made directory.
  const making = `${dir}.creating`;
  rmSync(making, { recursive: true, force: true });
  const script = [
    'const { PGlite } = await import("@electric-sql/pglite");',
    'const { drizzle } = await import("drizzle-orm/pglite");',
    'const { migrate } = await import("drizzle-orm/pglite/migrator");',
    "const client = await PGlite.create(process.argv[1]);",
    "await migrate(drizzle({ client }), { migrationsFolder: process.argv[2] });",
    "await client.close();",
  ].join("\n");
  await new Promise<void>((resolve, reject) => {
    // From the project's root, where the child resolves the packages as this process does.
    execFile(process.execPath, ["--input-type=module", "-e", script, making, migrationsFolder], { cwd: PROJECT_ROOT, timeout: 120_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`Could not create the PGlite data directory ${dir}: ${stderr.trim() || err.message}`, { cause: err })) : resolve(),
    );
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(making, dir);
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
