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
const WHERE_THE_TIME_GOES = `## Where the time goes (profiles of 2026-12-04 to 2026-12-06)

- **What is left, last measured on 2026-12-06** (experiments beside this bench, not part of it):
  - *The request log is the largest single cost.* One Parley per variant beside the minimal gateway, eight
    interleaved runs of 1.5–2 s at c=10 (order rotated, medians; CPU from \`/proc\` per thread): with the request log
    off, 553 → 440 µs of CPU a non-streamed request and 2,000 → 2,207 requests a second; in an earlier pair of runs
    456 → 333 µs and 2,745 → 3,517. A third run with a variant that builds every row and drops it at the flush: full
    347 µs and 3,102 requests a second, rows built but not inserted 257 µs and 3,845, no log 272 µs and 3,717 (seven
    runs each, medians). So building the rows costs nothing measurable and the insert costs ~20 % of the throughput:
    PGlite's thread spends 30–53 µs a request on it, and Parley's main thread runs ~35 µs a request slower while it
    does (its own part of a flush is one message per 100 rows). The insert alone, in a script with realistic rows:
    44–52 µs a row in 100-row statements (what Parley sends), 40–48 in 500–2,000-row ones (not taken: a longer statement
    holds every other query on that thread longer), \`json_to_recordset\` 37–51, \`COPY … FROM '/dev/blob'\` CSV 24–40
    (would need PGlite's blob passed through the thread's protocol), \`synchronous_commit=off\` 34–39 (an strace
    of its thread shows no fsync to skip), no secondary indexes 32–39. None halves it: the per-row cost is Postgres's
    own insert, run as WebAssembly. Logging every request is what the dashboard and the keys' budgets read: it stays.
  - *The rest of Parley's machinery is spread thin.* Measured alone: Hono with @hono/node-server and four
    pass-through middlewares costs 14–26 µs a request over plain \`node:http\` (60 against 47 µs; not worth a second
    HTTP stack for /v1); the in-memory limiter's decision at 1,000,000 a minute 0.6 µs; a rate key's digest 0.7 µs;
    the metrics of a finished request 4.6 µs. Switching the limiter's middleware or zod's check of the body off moved
    the medians by 19 and 9 µs, within the runs' noise (±60 µs between repetitions of one variant).
  - *One request at a time* (marks from \`diagnostics_channel\` and temporary ones in the code, 550 sequential
    non-streamed requests): request start → first middleware 0.05 ms; the middleware (access log, NUL check, key,
    rate limit) 0.06; the body read 0.05; JSON and zod 0.05; routing to the candidate loop 0.04; the upstream request
    built 0.04 and handed to undici 0.04; its headers and body written 0.1–0.2 (one \`writev\`); the upstream's answer
    0.36–0.4; its events parsed into the first batch 0.1; the JSON answer ready 0.1; written 0.25. Parley's own steps
    on that path add up to ~0.35–0.45 ms, where under load Parley spends ~0.15 ms a request beyond the minimal
    gateway: code run after an idle pause runs 2–3× slower (presumably caches gone cold while the client and the
    upstream ran). The target needs 0.2 ms of those steps gone, most of the route. CPU time per request at c=1 is
    not usable on this VM: \`/proc\` charges even the bare proxy 1.0 ms of user time per sequential request (0.1
    under load).
- **/v1 under load, later on 2026-12-05** (c=10, CPU per request from \`/proc\` per thread): streamed, Parley's main
  thread 0.33–0.34 ms a request (0.38 before), non-streamed 0.29–0.32; the minimal gateway's 0.14–0.16. The streamed
  answer now frames a batch's events into one string and writes it once (\`EventWriter.sendFramed\`): each write of its
  own had cost a buffered socket write and an iovec (streamed throughput 33 → 39–41 % of bare in full runs). What is
  left is spread as below; the main thread is the bottleneck (throughput ≈ 1 / its CPU per request), and 50 % of bare
  needs ~0.18 ms non-streamed (the bare proxy asks the upstream for a whole answer) and ~0.27 ms streamed.
- **/v1 under load, 2026-12-05** (c=10, CPU per request from \`/proc\` over 4-second runs, all threads): Parley
  0.38–0.46 ms (0.44–0.51 before this session's changes), the minimal gateway 0.13–0.16, the bare proxy 0.09–0.12.
  A profile in microseconds per request (inflated ~20 % by the profiler) against the minimal gateway's: socket writes
  50–58 (its own 51), garbage collection 35–40 (4), reading the upstream's events 18–24, mostly \`JSON.parse\` of
  each chunk (20), undici 20 (the same), the stream meter 12–18, the request log ~10 (its row's JSON ~7, a Date
  among its fields ~1 of it), Hono ~10, the candidate loop ~15, the JSON answer ~9, prom-client ~8, the key's and the
  rate limiter's digests ~6, the route ~7: no single part of Parley's own above ~5 % of its time. Taken this session:
  the caller's going away read from the connection (no AbortController per request), \`c.get\` for \`c.var\` (Hono
  builds the latter anew at each read), one-shot digests, the request log's rows held as JSON text, the record built
  without throwaway spreads, the stream handed out in batches (one async generator fewer per token). Each saved a
  few microseconds; together ~10 %.
- **/v1 under load, 2026-12-04** (c=10, non-streamed; Parley's main thread busy ~90 %, about 0.45–0.5 ms of CPU per request in
  all threads against the bare proxy's ~0.1 ms): socket writes (\`writev\` syscalls, 9–15 %), garbage collection
  (5–10 %), Node's HTTP parsing (~8 %), undici's request machinery (~7–9 %), Hono's routing and middleware (~4 %),
  prom-client (~2–3 %); the rest is Parley's own path, spread thin (reading the upstream's SSE, the stream meter, the
  candidate loop, the JSON answer), no single function above 6 %. By thread (\`/proc\`, c=10): Parley's main thread
  0.6–0.9 ms, V8's four helper threads 0.25–0.45 ms together, PGlite's thread 0.05–0.08 ms.
- **The floor of a gateway's work**: the throughput table's minimal gateway (bench/gateway/minimal-gateway.mjs: the
  client's JSON read, the upstream asked for a stream through undici, its events parsed, the answer written) reaches
  51–100 % of the bare proxy (four full runs) at ~0.16 ms of CPU per request. The work any gateway must do fits the 50 % target; what
  Parley spends beyond it (~0.3 ms a request) is its own machinery. Switching parts off one at a time (an experiment,
  not this bench; two 4-second runs each, ±10 % noise) put the request log at ~0.05–0.07 ms a request (its rows are
  inserted into PGlite on its thread), and the rate limiter's middleware and the metrics at ≤ 0.05 ms each; with all
  three off Parley still spent 0.33–0.38 ms. Asking the upstream for a whole answer instead of a stream halved the
  upstream's own CPU (0.10 → 0.06 ms a request) and left Parley's unchanged (0.45 → 0.41–0.48 ms): not taken, since it
  gives up the first-byte failover for whole answers. The app's routes make Hono's RegExpRouter refuse them
  (\`/api/sessions/:id/restore\` beside the others: UnsupportedPathError), so its SmartRouter falls back to the
  TrieRouter, whose search allocates ~4 KB and sorts its matches on every request, /v1 included.
- **Garbage under /v1 load**: a sampling heap profile counts ~108 KB allocated per request: the stream meter's
  generator ~10 KB, the route ~7 KB, reading the upstream's SSE ~9 KB, Hono ~10 KB (its handler, the trie search,
  compose, the context), undici ~5 KB, Node's HTTP objects ~5 KB, prom-client ~3.5 KB, the request log's row ~3 KB.
  \`--trace-gc\` shows a scavenge every 40–80 ms taking 4–15 ms and promoting ~2.5 MB each: the scavenges are what
  the event loop's max delay under load is made of. Part of what they promoted was the request log's buffer: a
  second's ~2,500 rows as ~25 small objects each (a Date, the attempts), now one JSON string each (paired runs: max
  delay 15.6–18.8 → 10.9–11.7 ms non-streamed; streamed unchanged at 11–16). Profiles of the longest busy stretches
  under load still show a third of their samples in the collector; the max sits at the 20 ms line (14–26 ms across runs).
- **Chat route, first delta**: server-side marks (a quiet machine, PGlite): the route starts 0.3 ms after the first
  middleware; the claim and the person's message (one statement, which must come before the model is called) end
  1.4–1.6 ms after that (0.9–1.0 ms when timed alone in a script, PGlite and Postgres alike); the prompt is built in
  0.1 ms; the gateway has the upstream's first event 1.3 ms later (the upstream's own answer included) and the first
  delta is written 0.2 ms after. Postgres executes the statement in 0.2–0.3 ms (\`log_min_duration_statement=0\`):
  the rest of a round trip is building it, waking the other process or thread, and reading the answer. Marks of
  2026-12-05: with replies back to back every step is about twice as fast as after a 20 ms pause (route start
  0.12 → 0.28 ms, the claim 0.8 → 1.5, the upstream's first event 0.5 → 0.9; Parley's added time 2.6–2.9 → 3.8–4.2 ms,
  PGlite and Postgres alike): a machine that idles between requests wakes slowly, and the bench's chat requests each
  follow a pause while the direct and /v1 requests run. The claim's statement timed alone: 0.70–0.84 ms; a minimal one
  (claim and message only, ids back) 0.51–0.55; the scenario's columns add ~0.06, the persona ~0.02, the lorebooks
  ~0.04, reading the message back ~0.05 (PGlite: a bare \`select 1\` from the main thread is 0.38 ms, the thread's
  hop included). Not changed: a slimmer statement would save ~0.2 ms of the 1 ms the PGlite figure misses by.
  Later on 2026-12-05: drizzle built the claim's statement anew for every reply (~50 µs warm, ~0.25 ms in a profile
  of the bench's spaced requests, its \`is()\` checks over every part of the template); the claim, claim-and-add,
  renew and release statements are now built once with placeholders (\`server/db/prebuilt.ts\`): Postgres
  claim-and-add plus release in a loop 1.41–1.59 → 1.18–1.31 ms. Named prepared statements on the server
  (postgres-js \`prepare: true\`) changed nothing measurable and would break transaction poolers: not taken.
  Later still (a profile of PGlite's thread running the claim in a loop): 18 % of the thread's samples were PGlite's
  \`parseResults\` copying its ~320 type parsers into a new object for every result, because ours (dates as text)
  were passed with each query (~75 µs a statement); they are now given once, when PGlite is created. A named
  statement's bind, describe, execute and sync go in one buffer (one pass of Postgres's loop, ~0.02 ms). The claim with
  its message plus the release, in a loop: 0.98 → 0.78 ms; \`select 1\` 0.37 → 0.29. Of the claim's remaining ~0.5 ms
  inside the thread, most is Postgres itself running in WebAssembly (no setting tried — \`plan_cache_mode\`,
  \`full_page_writes\`, \`track_counts\`, \`wal_level=minimal\`, \`synchronous_commit\` — moved it by more than 0.05 ms).
  The figure swings with the machine: the same code gave 2.3–2.6 ms and, twenty minutes later, 3.9–4.2 ms (the direct
  request's own first token 0.8 → 1.2 ms).
- **Waking a thread or a process** (2026-12-05, later): on this machine a \`postMessage\` to PGlite's thread costs
  its sender ~10 µs in a hot loop whatever the message's size, and ~100 µs a call in a profile of the chat bench,
  where the thread sleeps between requests (0.85 ms of the main thread's CPU a round, the largest single item of the
  chat route's profile): the eventfd write that wakes the other thread is an inter-processor interrupt on a virtual
  machine. A statement costs two such wakes, which is why the claim takes 0.4–0.6 ms longer in the route than in a
  loop, and the same holds for every socket to a sleeping process (Postgres's backend, the upstream). Folding a
  reply's insert into one statement (two round trips fewer) left every stage marked inside the server unchanged yet
  put the next request's first token 0.3–0.6 ms later in seven paired runs, on both databases: not understood, so
  not landed.
- **What the scavenges promote** (\`v8.setFlagsFromString("--trace-gc")\` at c=10, ~2,100 requests a second): a
  scavenge every 100–150 ms, 3.5–9 ms long, each adding 2.5–3 MB to the old generation (~11 KB a request; a heap
  profile of what minor collections did not free says 22 KB, spread over the route, the candidate loop and Node's
  HTTP objects), a mark-compact every ~0.6 s. A heap snapshot under load holds no requests (2 responses, 2 Hono
  contexts): nothing is kept, so what lives across two scavenges was not found.
  2026-12-06, by ablation (one Parley per variant, each cut short at one point; CPU per request from \`/proc\`, all
  threads; \`--trace-gc-nvp\`): answering in the route at once costs 68–87 µs a request and promotes 0.7 % of what it
  allocates; adding a plain undici call and \`readChatStream\` (no routing, meter or log) 245–315 µs, against 136–170
  µs for the whole minimal gateway doing the same call. The difference is the collector: 3.8 ms scavenges against 1.4,
  because 5.7 % of the allocation was promoted (minimal: 0.9 %). \`clientGone\` held the Node response in the closure
  of the listener it puts on that response; without it the same variant promotes 1.2 % (three paired runs), the whole
  request 12 % instead of 16 %. The rest comes in with the gateway's layers (candidate loop ~0.7 points, the route's
  tail ~1.6, the stream meter most). Two observations left unexplained: each scavenge promotes ~1.6 MB although only
  ~0.13 MB survived the one before, and a 4× larger semi-space promoted 4× as much per scavenge (the same share of
  allocation), so this is not requests outliving a scavenge interval (autocannon's p99 is 13–18 ms); and an async
  generator over the meter's state, made and never started, took one variant from 6.4 % to 14.7 % promoted (356 →
  458 µs a request), yet a meter whose \`drain\` makes no generator left the real path at 13.8 % (not landed).
  **Found later on 2026-12-06.** The meter's generator was declared inside \`meterStream\`, a new generator function
  per request. Its first call gives it a prototype and an initial map, which V8 registers through the prototype chain
  in a weak list held by %AsyncGeneratorPrototype%, and Node 20's scavenger treats weak references as strong; the map
  names the closure as its constructor, so each request's whole graph survived every scavenge until the next
  mark-compact: a fixed share of allocation, invisible to heap snapshots (their full collection clears the list). In a
  plain script a per-call async generator promoted 6.4 % of its allocation and ran 3.6× slower than one declared once
  (0.13 %); \`new\` of a per-call function promoted 27 %. Declared once: 12.5 → 4.8 % promoted. The rest came from
  literals V8 gives a new map at every evaluation (\`--log-maps\` under load: ~12 a request): a literal that starts
  with a spread and adds properties after it (the clone's map lies outside the transition tree; 50–100× a plain
  literal in a script), a literal with a getter (made a dictionary each time), and undici's top-level \`request()\`,
  which spreads its options. Replaced (\`merge\` in server/merge.ts, two classes, the agent's own \`request\`):
  1.4 % promoted non-streamed and 1.2 % streamed (the minimal gateway 0.9 %), scavenges of 1.6–1.7 ms instead of
  3.4–7.8, and 330–350 µs of CPU a request non-streamed, 367–375 µs streamed (680 and 772 before; minimal 150–220).
  The structure test refuses these shapes in the code a request runs.
- **Event-loop delay under load** (2026-12-06, a lag probe and a CPU profile sampling every 100 µs, c=10): with the
  scavenges at ~1.7 ms, the delays above 20 ms that remain fall in windows where the profiler took few samples of
  the main thread (14.7 ms with 7 samples, 17.9 ms with 29, where 147 and 179 were due): the thread was waiting for
  a core (two, shared by the load generator, the upstream, Parley's main thread, PGlite's thread and V8's helpers),
  not running our code. The same probe outside load shows the profiler's own gaps of 5–20 ms.
- **The in-memory rate limiter at a high limit**: the bench runs \`/v1\` at 1,000,000 requests a minute, so a key's
  window held a minute of requests (~50,000–150,000 times), and taking the oldest off its front moved all of them on
  every decision (27 µs at 150,000, in a script with a fake clock). The window now drops them by moving a head index
  (0.2–0.5 µs). A team's key at a generous limit paid the same.
- **Latency rounds**: the section used to run all its non-streamed rounds, then all its streamed ones; the first phase
  took the seconds just after Parley's start and measured them (Parley's non-streamed answer 1.43 ms against 1.01 ms
  for the same answer streamed, in one run; 1.00 and 1.02 when interleaved). Each round now asks both kinds.
- **Memory per stream**: the RSS that grows over the three bursts is V8's and the allocator's high-water mark (the
  first burst's figure swings 6–76 KB a stream between runs); the heap a full collection leaves is flat across them.
  What an open stream holds (2026-12-05, heap snapshots before and with 1,000 slow \`/v1\` streams open, diffed by
  constructor): 42.7 KB of objects each, a fifth of it the request's handler waiting for its stream to end — eight
  suspended middleware frames of Hono's \`compose\`, Hono's context and request, 79 function contexts, 28 promises. An
  event stream now runs apart from its handler (\`eventStream\` in \`server/routes/node-io.ts\`), which returns as the
  stream starts: 30.2 KB. Of the rest, Node's and undici's own objects for two sockets make most; the header strings
  Node keeps after writing them (\`_header\`, undici's host header) are trees of ~50 concatenated strings each.
- **Long sessions with a 200,000-token window**: every reply sends the ~700 KB prompt. Three costs were Parley's own
  and are gone: the first reply after opening read ~2,300 messages from the database (whole rows in 200-message steps,
  ~130 ms on PGlite, 200–380 ms to the first delta): a walk that carries only the prompt's five columns reads them in
  ~30 ms, and opening the conversation reads them ahead, off the request; every reply resolved macros in and
  serialised each of ~2,000 messages anew (~4–6 ms, and the garbage that made the reply's stalls): the turns are now
  the same frozen objects from reply to reply and their JSON is made once; the token estimate looped over every
  character in JavaScript (~5 ms for 800 KB). The first serialisation of a long prompt yields to the event loop
  every 400 messages. The floor rows post the very prompts Parley sent straight to the same upstream: the prompt's
  size alone puts the long session's first chunk 2.0–2.3 ms after the short one's (9–12 ms in earlier, noisier runs);
  Parley's own share of the difference was 0.9–3.2 ms in four full runs, mostly 1–2 (4.1–6.7 ms before; medians of 20 replies, the machine's noise is of the same size).
  Marks inside a reply (2026-12-05, Postgres): the body of ~700 KB took 0.6–0.7 ms to build, almost all of it page
  faults (one copy into fresh memory: 0.26 ms in a script, 0.016 into memory written before): bodies of 64 KB and more
  now go into memory lent from a small pool and given back once their answer is read (0.3 ms); the chat assembled the
  whole unfitted history beside the fitter (gone); the fitter's setup over 2,300 messages 0.23 → 0.13 ms. What is left
  of Parley's share is ~0.5 ms of its own work (fitting ~0.15, the body ~0.3) and the rest noise of the run.
  Later on 2026-12-05, marks per step (median of 22 long replies against the short ones beside them): the prompt's
  setup +0.4 ms, the gateway's fit +0.15, the body +0.45, Parley's ~1 ms in all. Now the body's history is one copy
  out of bytes kept per thread from the last reply (\`server/gateway/history-wire.ts\`; found by its first message, so
  a window sliding down as the thread grows still finds it) and the next reply takes the history turns its last one
  made (\`historyTurns\` in \`server/chat/prompt.ts\`): setup +0.07–0.12, fit +0.05–0.15, body +0.05–0.1 ms. The rest
  of the difference is the upstream receiving and parsing the prompt, which the floor rows measure. Medians of 20
  replies moved by ±1 ms between runs, so the section takes 60 rounds and also gives the median of each round's own
  difference.
- **Idle memory**: PGlite's thread adds its own V8 isolate and heap beside its WebAssembly memory (~+25–30 MB
  against PGlite on the main thread, in paired starts). Per thread (\`v8.getHeapSpaceStatistics\` each second): start-up
  grows the main thread's young generation to 32 MB and PGlite's thread's to 16 MB; V8's memory reducer gives that
  back after 10–20 s of idleness (hence the 15 s and 30 s columns), a forced \`gc()\` does not. PGlite's WebAssembly
  memory holds ~29 MB touched; its compiled code ~35 MB (starting Node with \`--liftoff-only\` saved 34 MB, at the
  price of slower code for every statement: not taken). Capping the thread's young generation saved 14 MB of its heap,
  within the run-to-run noise of RSS (±20 MB): not taken either. Tried on 2026-12-05: \`--gc-memory-reducer-start-delay-ms=1000\`
  on Node's command line leaves the reducer's first pass at ~8 s; \`--max-semi-space-size=8\` (three paired starts)
  moved nothing beyond the noise; PGlite's \`initialMemory\` cannot go below its module's own minimum of 128 MB;
  \`MALLOC_ARENA_MAX=2\` (two paired starts each) moved nothing. \`--max-semi-space-size=2\` took the 3 s figure from
  263–279 to 245–251 MB (means of two starts each) and the settled one from 214–232 up to 229–235: the young
  generation stays small, so start-up's objects go to the old one; under load it would mean a scavenge every few
  milliseconds. Not taken: the 3 s figure is start-up's young generation, which V8 gives back once idle.
- **Reading the upstream's stream** (a script, the bench's 13-event answer): 19 µs a response when it arrives in one
  read, 30 µs when each event arrives in a read of its own; eventsource-parser with \`JSON.parse\` alone 19, \`JSON.parse\`
  alone 11. The minimal gateway does the same work.
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
