import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SQL } from "drizzle-orm";
import { createTestDatabase } from "./db.js";

const MIGRATIONS = path.resolve(import.meta.dirname, "../../server/db/migrations");

/** Rows of a raw query, from either driver (postgres.js returns an array, PGlite `{ rows }`). */
export const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

/**
 * A database as an older Parley left it: migrations before `beforeTag` (say "0005") applied, on
 * PGlite (a data directory) or on a fresh Postgres database. `exec` writes the older shape's rows;
 * then `close`, and open `dataDir`/`url` with today's Parley to migrate it.
 */
export async function olderDatabase(kind: "pglite" | "postgres", beforeTag: string, postgresUrl: string) {
  const temp: string[] = [];
  const folder = mkdtempSync(path.join(tmpdir(), "parley-mig-"));
  temp.push(folder);
  cpSync(MIGRATIONS, folder, { recursive: true });
  const journalPath = path.join(folder, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag < beforeTag);
  writeFileSync(journalPath, JSON.stringify(journal));

  const dataDir = mkdtempSync(path.join(tmpdir(), "parley-older-"));
  temp.push(dataDir);
  const pg = kind === "postgres" ? await createTestDatabase(postgresUrl) : undefined;
  let exec: (q: SQL) => Promise<unknown>;
  let close: () => Promise<void>;
  if (pg) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    const client = postgres(pg.url, { max: 1, onnotice: () => {} });
    const db = drizzle({ client });
    await migrate(db, { migrationsFolder: folder });
    exec = (q) => db.execute(q);
    close = () => client.end();
  } else {
    const { PGlite } = await import("@electric-sql/pglite");
    const { drizzle } = await import("drizzle-orm/pglite");
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    const client = await PGlite.create(path.join(dataDir, "pglite"));
    const db = drizzle({ client });
    await migrate(db, { migrationsFolder: folder });
    exec = (q) => db.execute(q);
    close = () => client.close();
  }
  return {
    exec,
    close,
    /** What today's Parley opens: `openDatabase({ databaseUrl, dataDir })`. */
    databaseUrl: pg?.url,
    dataDir,
    async dispose() {
      await pg?.drop();
      for (const d of temp) rmSync(d, { recursive: true, force: true });
    },
  };
}
