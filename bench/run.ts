/**
 * `npm run bench`: what Parley adds to a streamed reply (chat route and /v1 over a scripted upstream),
 * and what the local chat worker adds to node-llama-cpp. Loopback only, bounded in rounds.
 * what a long conversation costs, and what a rate-limit decision costs. BENCH_ONLY=chat|gateway|long|worker|ratelimit runs one section
 * (RESULTS.md is then left alone).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { benchChat } from "./chat.js";
import { benchGateway } from "./gateway.js";
import { benchLongSession } from "./long-session.js";
import { benchRateLimit } from "./ratelimit.js";
import { benchWorker } from "./worker.js";
import { buildEntries } from "../tests/support/parley.js";

const only = process.env.BENCH_ONLY;

// What CPU profiles (BENCH_PROF_DIR, bench/loop-monitor.mjs) showed for the figures still missed.
// Written by hand from the profiles of the date given, not computed by this run.
const WHERE_THE_TIME_GOES = `## Where the time goes (profiles of 2026-12-04)

- **/v1 under load** (c=10, non-streamed; Parley's main thread busy ~90 %, about 0.5 ms of CPU per request against
  the bare proxy's ~0.1 ms): socket writes (\`writev\` syscalls, 9–13 %), garbage collection (~10 %), Node's HTTP parsing
  (~8 %), undici's request machinery (~7 %), Hono's routing and middleware (~4 %), prom-client (~2 %); the rest is
  Parley's own path, spread thin (reading the upstream's SSE, the stream meter, the candidate loop, the JSON answer),
  no single function above 5 %. The request log's batched inserts into PGlite took ~10 % and held the loop 50–110 ms
  at a time: PGlite now runs on its own thread, which took the loop's max delay under load from 77–108 ms to ~20 ms.
  By thread (CPU time per request from \`/proc\`, c=10, non-streamed): Parley's main thread 0.6–0.9 ms, V8's four
  helper threads (concurrent marking, parallel scavenges) 0.25–0.45 ms together, PGlite's thread 0.05–0.08 ms; the bare
  proxy 0.10–0.14 ms in all. The upstream itself spends twice as much per request for Parley (0.14–0.2 ms against
  0.07–0.09) because Parley asks it for a stream. On two cores these share the CPU with the upstream and the load
  generator, so the helper threads' share counts against throughput as much as the main thread's.
- **Garbage under /v1 load**: a sampling heap profile counts ~95 KB allocated per request (Parley's own closures,
  promises and generator states of the stream path, Hono's context, undici's request, Node's HTTP objects; no site
  above 9 %). \`--trace-gc\` shows a scavenge every 40–80 ms taking 4–15 ms and promoting ~2.5 MB each, and a
  mark-compact every 0.5–1 s giving back 20–60 MB: the scavenges are what the event loop's max delay under load is
  made of.
- **Chat route, first delta**: a database round trip costs 1.5–2 ms on this machine although Postgres executes the
  statements in 0.2–0.3 ms (\`log_min_duration_statement=0\`): waking the other process or thread dominates. The route
  makes one round trip before the model is called (the claim and the person's message are one statement, which
  must be stored first). On PGlite that statement ran ~2.2 ms in WebAssembly, 0.94 ms of it planning: statements with
  parameters are now planned once (named statements), which took the first delta from 11.0 to 8.6 ms p50 in a paired
  run. The gateway's own share of the first delta is ~0.5 ms over the upstream's.
- **Memory per stream**: the RSS that grows over the three bursts is V8's and the allocator's high-water mark; the heap
  a full collection leaves is flat across them (the line under that table).
- **Long sessions with a 200,000-token window**: every reply sends the ~800 KB prompt. PGlite's statements no longer
  count in the stalls, and the body is now built as bytes message by message (undici's copy of one 800 KB string was
  ~16 % of the stalled time). What remains is collecting garbage (~19 %) and the socket write of 800 KB, which on
  loopback runs the receiving side's TCP work inside the sender's system call. The floor rows under that table post the
  very prompts Parley sent straight to the same upstream. The prompt's size alone (693 KB, sent and parsed) puts the
  long session's first chunk 9–11 ms after the short one's without Parley. What is left is Parley's own: ~0 in a
  3,000-message trial (10.3 ms through Parley against 11.3 straight), 4.1–6.7 ms at 10,000 messages in two full runs
  (PGlite and Postgres alike), with the same prompt; the 10,000-message thread is held in memory by the path cache,
  and a larger heap makes every collection longer (not yet measured apart).
- **Idle memory**: PGlite's thread adds its own V8 isolate and heap beside its WebAssembly memory (~+25–30 MB
  against PGlite on the main thread, in paired starts). Per thread (\`v8.getHeapSpaceStatistics\` each second): start-up
  grows the main thread's young generation to 32 MB and PGlite's thread's to 16 MB; V8's memory reducer gives that
  back after 10–20 s of idleness (hence the 15 s and 30 s columns), a forced \`gc()\` does not. PGlite's WebAssembly
  memory holds ~29 MB touched; its compiled code ~35 MB (starting Node with \`--liftoff-only\` saved 34 MB, at the
  price of slower code for every statement: not taken). Capping the thread's young generation saved 14 MB of its heap,
  within the run-to-run noise of RSS (±20 MB): not taken either.
`;
// Parley and the worker are measured as `npm start` runs them: the built bundles, no TypeScript loader.
await buildEntries();
const sections: string[] = [];
if (!only || only === "chat") sections.push(await benchChat());
if (!only || only === "gateway") sections.push(await benchGateway());
if (!only || only === "long") sections.push(await benchLongSession());
if (!only || only === "ratelimit") sections.push(await benchRateLimit());
if (!only || only === "worker") sections.push(await benchWorker());

const report = `# Benchmarks

Run with \`npm run bench\`. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

${sections.join("\n")}
${only ? "" : WHERE_THE_TIME_GOES}`;
console.log(report);
if (!only && process.env.BENCH_WRITE !== "0") writeFileSync(new URL("./RESULTS.md", import.meta.url), report);
