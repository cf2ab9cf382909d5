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
import { PGlite, types } from "@electric-sql/pglite";

/** As drizzle's PGlite driver asks: dates, times and intervals as Postgres wrote them. */
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
  db = await PGlite.create(workerData.dir, { postgresqlconf: workerData.conf });
} catch (err) {
  port.postMessage({ id: 0, error: plainError(err) });
  process.exit(1);
}
port.postMessage({ id: 0, result: "ready" });

/** Open transactions: each waits, inside PGlite's own `transaction`, for its `end`. */
const txs = new Map();
let nextTx = 1;
const ROLLBACK = Symbol("rollback");
const listening = new Map();

async function handle(msg) {
  switch (msg.op) {
    case "query": {
      const target = msg.tx === undefined ? db : txs.get(msg.tx)?.tx;
      if (!target) throw new Error(`transaction ${msg.tx} is not open`);
      const r = await target.query(msg.sql, msg.params, { rowMode: msg.rowMode, parsers: PARSERS });
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
const pendingEnds = new Map();

port.on("message", (msg) => {
  handle(msg).then(
    (result) => {
      port.postMessage({ id: msg.id, result });
      if (msg.op === "close") port.close();
    },
    (err) => port.postMessage({ id: msg.id, error: plainError(err) }),
  );
});
