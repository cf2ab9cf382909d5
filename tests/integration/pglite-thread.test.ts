import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DbHandle } from "../../server/db/client.js";
import { classifyDatabaseError } from "../../server/db/failures.js";
import { isUniqueViolation } from "../../server/db/queries/admin.js";
import { systemConfig } from "../../server/db/schema.js";

/**
 * The embedded database runs on a thread of its own (server/db/pglite-thread.mjs): what Parley
 * relies on of a database must hold across that crossing — transactions that see only their own
 * statements, Postgres's error codes, NOTIFY, and a clear failure once it is gone.
 */
describe("PGlite on its own thread", () => {
  let dir: string;
  let handle: DbHandle;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "parley-thread-"));
    handle = await openDatabase({ dataDir: dir });
  });
  afterAll(async () => {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits a transaction whole, rolls one back whole, and holds other statements back meanwhile", async () => {
    const db = handle.db;
    await db.transaction(async (tx) => {
      await tx.insert(systemConfig).values({ key: "thread-a", value: 1 });
      await tx.insert(systemConfig).values({ key: "thread-b", value: 1 });
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(systemConfig).values({ key: "thread-c", value: 1 });
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const ids = (await db.select({ key: systemConfig.key }).from(systemConfig).where(sql`${systemConfig.key} like 'thread-%'`)).map((r) => r.key).sort();
    expect(ids).toEqual(["thread-a", "thread-b"]);

    // A statement sent while a transaction is open runs after it ends, and sees what it committed.
    let release!: () => void;
    let inserted!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const insertedInTx = new Promise<void>((r) => (inserted = r));
    const order: string[] = [];
    const tx = db.transaction(async (t) => {
      await t.insert(systemConfig).values({ key: "thread-d", value: 1 });
      inserted();
      await held;
      order.push("tx");
    });
    await insertedInTx;
    const outside = db.select({ key: systemConfig.key }).from(systemConfig).where(eq(systemConfig.key, "thread-d")).then((rows) => {
      order.push("outside");
      return rows;
    });
    release();
    await tx;
    expect(await outside).toEqual([{ key: "thread-d" }]);
    expect(order).toEqual(["tx", "outside"]);
  });

  it("reports Postgres's errors with their codes, and delivers NOTIFY", async () => {
    const err = await handle.db.insert(systemConfig).values({ key: "thread-a", value: 1 }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);

    const heard: string[] = [];
    const stop = await handle.listen("parley_thread_test", (p) => heard.push(p));
    const got = new Promise<void>((resolve) => {
      const check = setInterval(() => heard.length && (clearInterval(check), resolve()), 5);
    });
    await handle.db.execute(sql`select pg_notify('parley_thread_test', 'hello')`);
    await got;
    expect(heard).toEqual(["hello"]);
    await stop();
  });

  it("plans a statement with parameters once, as a named statement, and answers it as PGlite would", async () => {
    const db = handle.db;
    for (const key of ["thread-a", "thread-b", "thread-a"]) {
      const rows = await db.select({ key: systemConfig.key, at: systemConfig.updatedAt }).from(systemConfig).where(eq(systemConfig.key, key));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.key).toBe(key);
      expect(rows[0]!.at).toBeInstanceOf(Date);
    }
    const prepared = await db.execute(sql`select count(*)::int as n from pg_prepared_statements where statement like ${'select "key", "updated_at" from "system_config"%'}`);
    expect((prepared as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(1);
    // A failing named statement inside a transaction rolls it back like any other.
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(systemConfig).values({ key: "thread-e", value: 1 });
        await tx.insert(systemConfig).values({ key: "thread-a", value: 1 });
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    expect(await db.select().from(systemConfig).where(eq(systemConfig.key, "thread-e"))).toEqual([]);
  });

  it("answers a statement after one that failed to parse, to bind or to run, with dates as Postgres wrote them", async () => {
    const db = handle.db;
    const codeOf = (e: unknown) => (e as { cause?: { code?: string }; code?: string }).cause?.code ?? (e as { code?: string }).code;
    // Failed while parsed (a new named statement), while bound (a value its type refuses), while run (a unique key).
    expect(codeOf(await db.execute(sql`select ${1}::int + no_such_column`).catch((e: unknown) => e))).toBe("42703");
    expect(codeOf(await db.execute(sql`select ${"not a number"}::int as n`).catch((e: unknown) => e))).toBe("22P02");
    expect(isUniqueViolation(await db.insert(systemConfig).values({ key: "thread-a", value: 1 }).catch((e: unknown) => e))).toBe(true);
    const after = await db.execute(sql`select ${41}::int + 1 as n, ${"x"}::text as s, now() as at`);
    const row = (after as unknown as { rows: { n: number; s: string; at: unknown }[] }).rows[0]!;
    expect([row.n, row.s]).toEqual([42, "x"]);
    // Timestamps cross as text, which drizzle's PGlite driver turns into dates itself (with parameters or without).
    expect(typeof row.at).toBe("string");
    const plain = await db.execute(sql`select now() as at`);
    expect(typeof (plain as unknown as { rows: { at: unknown }[] }).rows[0]!.at).toBe("string");
    await db.transaction(async (tx) => {
      await tx.insert(systemConfig).values({ key: "thread-f", value: 1 });
    });
    expect(await db.select({ key: systemConfig.key }).from(systemConfig).where(eq(systemConfig.key, "thread-f"))).toEqual([{ key: "thread-f" }]);
  });

  it("once closed, every statement fails as an unreachable database, not a crash", async () => {
    const other = mkdtempSync(path.join(tmpdir(), "parley-thread-"));
    try {
      const h = await openDatabase({ dataDir: other });
      await h.close();
      const err = await h.db.select().from(systemConfig).catch((e: unknown) => e);
      expect(classifyDatabaseError(err)).toBe("unreachable");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
