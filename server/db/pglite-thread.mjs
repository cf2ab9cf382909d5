// The embedded database on a thread of its own. PGlite runs Postgres compiled to WebAssembly, and
// runs each statement synchronously on the thread that calls it: on Parley's main thread, a 100-row
// write of the request log or a walk up a long thread held every stream of the instance for its
// whole duration (20–70 ms under load). Here it holds only this thread; the main thread talks to it
// through messages (server/db/pglite-remote.ts), as it would to a network database.
//
// Plain JavaScript on purpose: it is started as it is, from the sources as from the bundle, and it
// needs nothing of Parley but the protocol below.
//
// Requests (main → here), each with an `id` answered once by `{ id, result }` or `{ id, error }`:
//   { op: "query", sql, params, rowMode, tx? }   one statement, inside transaction `tx` if given
//   { op: "begin" }                              opens a transaction; answers its number
//   { op: "end", tx, commit }                    commits (or rolls back) it; answers once done
//   { op: "listen", channel } / { op: "unlisten", channel }
//   { op: "close" }
// Notifications (here → main): { notify: channel, payload }.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, parse as results, protocol, types } from "@electric-sql/pglite";

/**
 * As drizzle's PGlite driver asks: dates, times and intervals as Postgres wrote them. Given once, at
 * creation: passed with each query, PGlite copies its ~320 parsers with them for every result
 * (~75 µs a statement, a tenth of the claim's time).
 */
const raw = (value) => value;
const PARSERS = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((t) => [t, raw]),
);

const port = parentPort;
if (!port) throw new Error("pglite-thread.mjs runs as a worker thread");

/** An error as plain data: a Postgres error's fields (code, detail, constraint, …) survive the crossing. */
function plainError(err) {
  if (!(err instanceof Error)) return { message: String(err) };
  const out = { name: err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) if (v === undefined || ["string", "number", "boolean"].includes(typeof v)) out[k] = v;
  return out;
}

let db;
try {
  db = await PGlite.create(workerData.dir, { postgresqlconf: workerData.conf, parsers: PARSERS });
} catch (err) {
  port.postMessage({ id: 0, error: plainError(err) });
  process.exit(1);
}
port.postMessage({ id: 0, result: "ready" });

/**
 * A statement with parameters runs as a named statement, parsed and planned once: PGlite plans in
 * WebAssembly, and for the statements on the way to a reply (the claim with its message, a reply's
 * writes) planning took about as long as running them (0.94 ms of ~2 ms for the claim). This is
 * PGlite's own extended-protocol query (parse, describe, bind, execute, sync) with the parse kept,
 * under the same locks its `query` and a transaction's `query` take. Keyed by the statement's text,
 * which drizzle keeps stable, the values being parameters; the oldest are closed past MAX_NAMED.
 * Postgres re-plans a named statement by itself when a table it reads changes.
 */
const MAX_NAMED = 500;
const named = new Map();
let nextName = 1;
const NAMEABLE = /^\s*(with|select|insert|update|delete)\b/i;
const { serialize } = protocol;

/** `tx`: the open transaction it belongs to (its lock is held already), else none. */
function query(sql, params, rowMode, tx) {
  if (!params.length || !NAMEABLE.test(sql)) return (tx ?? db).query(sql, params, { rowMode });
  const run = () => db._runExclusiveQuery(() => runNamed(sql, params, rowMode));
  return tx ? run() : db._runExclusiveTransaction(run);
}

async function runNamed(sql, params, rowMode) {
  const send = (message) => db.execProtocolStream(message, { syncToFs: false });
  const messages = [];
  let synced = false;
  try {
    let statement = named.get(sql);
    if (!statement) {
      const name = `parley_${nextName++}`;
      await send(serialize.parse({ name, text: sql }));
      const paramTypes = results.parseDescribeStatementResults(await send(serialize.describe({ type: "S", name })));
      statement = { name, paramTypes };
      named.set(sql, statement);
      if (named.size > MAX_NAMED) {
        const [oldest, { name: old }] = named.entries().next().value;
        named.delete(oldest);
        await send(serialize.close({ type: "S", name: old }));
      }
    }
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = db.serializers[statement.paramTypes[i]];
      return serializer ? serializer(v) : v.toString();
    });
    // One buffer, one pass of Postgres's loop: bind, describe, execute and sync sent apart cost a
    // crossing into WebAssembly each. An error inside it skips to its sync, as over a socket.
    const run = [serialize.bind({ statement: statement.name, values }), serialize.describe({ type: "P" }), serialize.execute({}), serialize.sync()];
    messages.push(...(await send(Buffer.concat(run))));
    synced = true;
  } catch (err) {
    // A statement whose result's shape changed under it (0A000) or that is gone (26000) is parsed anew next time.
    if (err?.code === "0A000" || err?.code === "26000") named.delete(sql);
    // A parse or describe that failed left Postgres waiting for a sync (one more after the buffer's own is harmless).
    if (!synced) await send(serialize.sync()).catch(() => {});
    throw err;
  }
  if (!db.isInTransaction()) await db.syncToFs();
  return results.parseResults(messages, db.parsers, { rowMode })[0];
}

/** Open transactions: each waits, inside PGlite's own `transaction`, for its `end`. */
const txs = new Map();
/** Each open transaction's own promise, which settles once PGlite has committed or rolled it back. */
const pendingEnds = new Map();
let nextTx = 1;
const ROLLBACK = Symbol("rollback");
const listening = new Map();

async function handle(msg) {
  switch (msg.op) {
    case "query": {
      const tx = msg.tx === undefined ? undefined : txs.get(msg.tx)?.tx;
      if (msg.tx !== undefined && !tx) throw new Error(`transaction ${msg.tx} is not open`);
      const r = await query(msg.sql, msg.params ?? [], msg.rowMode, tx);
      return { rows: r.rows, affectedRows: r.affectedRows, fields: r.fields };
    }
    case "begin": {
      const id = nextTx++;
      return new Promise((opened, failed) => {
        const done = db
          .transaction(async (tx) => {
            const commit = await new Promise((end) => {
              txs.set(id, { tx, end });
              opened(id);
            });
            if (!commit) throw ROLLBACK;
          })
          .finally(() => txs.delete(id));
        // `end` answers once the transaction has finished, with its outcome.
        done.catch((err) => {
          if (!txs.has(id) && err !== ROLLBACK) failed(err);
        });
        pendingEnds.set(id, done);
      });
    }
    case "end": {
      const open = txs.get(msg.tx);
      if (!open) throw new Error(`transaction ${msg.tx} is not open`);
      open.end(msg.commit);
      try {
        await pendingEnds.get(msg.tx);
      } catch (err) {
        if (err !== ROLLBACK) throw err;
      } finally {
        pendingEnds.delete(msg.tx);
      }
      return null;
    }
    case "listen": {
      if (!listening.has(msg.channel)) {
        listening.set(msg.channel, await db.listen(msg.channel, (payload) => port.postMessage({ notify: msg.channel, payload })));
      }
      return null;
    }
    case "unlisten": {
      const stop = listening.get(msg.channel);
      listening.delete(msg.channel);
      await stop?.();
      return null;
    }
    case "close": {
      await db.close();
      return null;
    }
    default:
      throw new Error(`unknown request ${String(msg.op)}`);
  }
}

port.on("message", (msg) => {
  handle(msg).then(
    (result) => {
      port.postMessage({ id: msg.id, result });
      if (msg.op === "close") port.close();
    },
    (err) => port.postMessage({ id: msg.id, error: plainError(err) }),
  );
});
