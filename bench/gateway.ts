/**
 * Parley's gateway against the floor: the scripted upstream alone ("direct"), a bare node:http
 * pass-through ("bare", bench/gateway/bare-proxy.mjs), for throughput a minimal gateway that parses
 * the upstream's stream and nothing more ("minimal") and Parley's `/v1`, each a process of its own,
 * on loopback. Latency is paired (the three alternate request by request, one at a time);
 * throughput is autocannon at c=10 and c=100 with the order rotated over three repetitions; then
 * memory per open stream, idle memory, failover, and what the web app's pages load.
 * Issue 15's targets are printed beside each figure.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { Agent, request } from "undici";
import { openDatabase } from "../server/db/client.js";
import { seedDefaults } from "../server/db/seed.js";
import { writeLongThread } from "../tests/support/long-thread.js";
import { startParley, type ParleyProcess } from "../tests/support/parley.js";
import { startChild, startUpstreamProcess } from "./children.js";
import { heapAfterGc, loopMonitor, loopMonitorEnv } from "./loop-report.js";
import { fmt, pct } from "./stats.js";

const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 400);
const WARMUP = 50;
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 4);
const SLOW_STREAMS = Number(process.env.BENCH_SLOW_STREAMS ?? 1000);
const CHUNKS = Array.from({ length: 10 }, (_, i) => `w${i} `);
const MODEL = "anthropic/claude-3-haiku";
const root = new URL("..", import.meta.url);

/** Progress on stderr: the sections take minutes. */
const progress = (what: string) => process.stderr.write(`bench gateway: ${what}\n`);

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

type Target = { name: "direct" | "bare" | "minimal" | "parley"; url: string; headers: Record<string, string> };

const body = (stream: boolean, model = MODEL) => JSON.stringify({ model, stream, messages: [{ role: "user", content: "Hello there, how are you today?" }] });

/** One request; for a stream, the time to its first content chunk, else to the whole answer (ms). */
async function timeOne(agent: Agent, t: Target, stream: boolean, model = MODEL): Promise<{ first: number; total: number; status: number }> {
  const started = performance.now();
  const res = await request(t.url, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json", ...t.headers }, body: body(stream, model) });
  let first = -1;
  let seen = "";
  for await (const chunk of res.body) {
    if (first < 0 && stream) {
      seen += chunk.toString();
      if (/"content":"[^"]/.test(seen)) first = performance.now() - started;
    }
  }
  const total = performance.now() - started;
  return { first: stream ? first : total, total, status: res.statusCode };
}

/** The gaps a client sees between content chunks sent 10 ms apart (nothing may batch them). */
async function chunkGaps(agent: Agent, t: Target): Promise<number[]> {
  const res = await request(t.url, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json", ...t.headers }, body: body(true) });
  const gaps: number[] = [];
  let last = -1;
  for await (const chunk of res.body) {
    const n = (chunk.toString().match(/"content":"w/g) ?? []).length;
    if (n === 0) continue;
    const now = performance.now();
    if (last >= 0) gaps.push(now - last, ...Array(n - 1).fill(0));
    last = now;
  }
  return gaps;
}

async function load(t: Target, stream: boolean, connections: number): Promise<{ rps: number; errors: number; load: number }> {
  const r = await autocannon({
    url: t.url,
    method: "POST",
    connections,
    duration: LOAD_SECONDS,
    headers: { "content-type": "application/json", ...t.headers },
    body: body(stream),
  });
  return { rps: r.requests.average, errors: r.errors + r.non2xx + r.timeouts, load: loadavg()[0]! };
}

/** `n` slow streams open at once: the server's RSS before, at their peak, and whether all completed. */
async function slowBurst(pid: number, t: Target, n: number): Promise<{ before: number; peak: number; completed: number }> {
  const agent = new Agent({ connections: n + 10, pipelining: 0 });
  const before = rssOf(pid);
  let started = 0;
  let peak = before;
  let release!: () => void;
  const allStarted = new Promise<void>((resolve) => (release = resolve));
  const runs = Array.from({ length: n }, async () => {
    const res = await request(t.url, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json", ...t.headers }, body: body(true) });
    let counted = false;
    let text = "";
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (!counted && /"content":"[^"]/.test(text)) {
        counted = true;
        if (++started === n) release();
      }
    }
    return text.includes("[DONE]");
  });
  await Promise.race([allStarted, sleep(60_000)]);
  peak = Math.max(peak, rssOf(pid));
  const done = await Promise.all(runs.map((r) => r.catch(() => false)));
  await agent.close();
  return { before, peak, completed: done.filter(Boolean).length };
}

export async function benchGateway(): Promise<string> {
  // The production build, which Parley serves here and whose weight is measured below.
  execFileSync(process.execPath, ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { cwd: root, stdio: "inherit" });
  const dataDir = mkdtempSync(path.join(tmpdir(), "parley-bench-gw-"));
  const upstream = await startUpstreamProcess();
  const upstreamBase = upstream.baseUrl;
  const bare = await startChild(["bench/gateway/bare-proxy.mjs", upstreamBase]);
  const minimal = await startChild(["bench/gateway/minimal-gateway.mjs", upstreamBase]);
  const loopReport = path.join(dataDir, "loop.json");
  const loop = loopMonitor(loopReport);
  let parley: ParleyProcess | undefined;
  const lines: string[] = [];
  try {
    const parleyEnv = {
        ...loopMonitorEnv(loopReport),
        OPENROUTER_API_KEY: "sk-bench",
        OPENROUTER_BASE_URL: upstreamBase,
        PARLEY_API_KEYS: "pk-bench",
        LOG_LEVEL: "info",
        RATE_LIMIT_PER_MIN: "1000000",
        RATE_LIMIT_PER_ADDRESS_PER_MIN: "1000000",
        PARLEY_WEB_DIR: fileURLToPath(new URL("dist/web", root)),
    };
    parley = await startParley({ dataDir, env: parleyEnv });
    const targets: Target[] = [
      { name: "direct", url: `${upstreamBase}/chat/completions`, headers: {} },
      { name: "bare", url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {} },
      { name: "parley", url: `${parley.url}/v1/chat/completions`, headers: { authorization: "Bearer pk-bench" } },
    ];
    await upstream.setDefault({ kind: "stream", chunks: CHUNKS, usage: { prompt_tokens: 12, completion_tokens: CHUNKS.length } });
    const agent = new Agent({ connections: 4 });

    progress("latency");
    // Latency, paired: the three in turn, the order rotated, one request at a time.
    const lat: Record<string, Record<Target["name"], number[]>> = {
      whole: { direct: [], bare: [], minimal: [], parley: [] },
      first: { direct: [], bare: [], minimal: [], parley: [] },
      streamed: { direct: [], bare: [], minimal: [], parley: [] },
    };
    // Both kinds of request in every round: run one after the other, the first kind took the
    // seconds just after start-up (JIT, V8's first memory reduction) and measured them, not the gateway.
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      for (const [mode, stream] of i % 2 ? ([["first", true], ["whole", false]] as const) : ([["whole", false], ["first", true]] as const)) {
        for (let k = 0; k < 3; k++) {
          const t = targets[(i + k) % 3]!;
          const r = await timeOne(agent, t, stream);
          if (r.status !== 200) throw new Error(`${t.name} answered ${r.status}`);
          if (i >= WARMUP) lat[mode]![t.name].push(r.first);
          if (i >= WARMUP && stream) lat.streamed![t.name].push(r.total);
        }
      }
    }
    await upstream.clear();
    const added = (mode: string, name: Target["name"], p: number) => pct(lat[mode]![name], p) - pct(lat[mode]!.direct, p);
    lines.push(
      "### Latency, one request at a time (ms)",
      "",
      `${ROUNDS} rounds after ${WARMUP} warm-up, each round both kinds of request (their order alternating) to the three targets in rotating order; a ${CHUNKS.length}-chunk answer.`,
      "",
      "| measure | direct p50 / p99 | bare p50 / p99 | Parley p50 / p99 | added by bare p50 / p99 | added by Parley p50 / p99 | target (Parley) |",
      "|---|---|---|---|---|---|---|",
      ...(["whole", "first", "streamed"] as const).map((mode) => {
        const cell = (name: Target["name"]) => `${fmt(pct(lat[mode]![name], 50))} / ${fmt(pct(lat[mode]![name], 99))}`;
        const label = { whole: "non-streamed, whole answer", first: "streamed, first content chunk", streamed: "streamed, whole answer (for reference)" }[mode];
        const target = {
          whole: `p50 ≤ bare + 0.5 (${fmt(added(mode, "bare", 50) + 0.5)}), p99 ≤ bare + 3 (${fmt(added(mode, "bare", 99) + 3)})`,
          first: `p50 ≤ bare + 0.5 (${fmt(added(mode, "bare", 50) + 0.5)})`,
          streamed: "—",
        }[mode];
        return `| ${label} | ${cell("direct")} | ${cell("bare")} | ${cell("parley")} | ${fmt(added(mode, "bare", 50))} / ${fmt(added(mode, "bare", 99))} | ${fmt(added(mode, "parley", 50))} / ${fmt(added(mode, "parley", 99))} | ${target} |`;
      }),
      "",
      "Parley asks the upstream for a stream even when its client wants the whole answer at once (so a model that hangs is",
      "caught by the first-byte and idle timeouts and the next one tried), while the bare proxy passes `stream: false` on and",
      "gets one JSON body: the last row is what reading the whole stream costs the direct client, the floor of Parley's choice.",
      "",
    );

    progress("chunk gaps");
    // 10 ms between upstream chunks: each reaches the client on its own.
    await upstream.setDefault({ kind: "stream", chunks: CHUNKS, delayMs: 10 });
    const gaps: Record<string, number[]> = { bare: [], parley: [] };
    for (let i = 0; i < 10; i++) for (const t of targets.slice(1)) gaps[t.name]!.push(...(await chunkGaps(agent, t)));
    lines.push(
      `Chunks sent 10 ms apart arrive apart: median gap bare ${fmt(pct(gaps.bare!, 50))} ms (min ${fmt(Math.min(...gaps.bare!))}), Parley ${fmt(pct(gaps.parley!, 50))} ms (min ${fmt(Math.min(...gaps.parley!))}).`,
      "",
    );

    progress("throughput");
    // Throughput: autocannon, the order rotated over three repetitions; the event loop measured during Parley's c=10 runs.
    await upstream.setDefault({ kind: "stream", chunks: CHUNKS, usage: { prompt_tokens: 12, completion_tokens: CHUNKS.length } });
    // Beside the bare proxy, a minimal gateway (bench/gateway/minimal-gateway.mjs): what parsing the
    // upstream's stream and answering costs anyone, apart from Parley's own machinery.
    const through: Target[] = [targets[1]!, { name: "minimal", url: `http://127.0.0.1:${minimal.port}/v1/chat/completions`, headers: {} }, targets[2]!];
    const rps: Record<string, { rps: number[]; errors: number; load: number[] }> = {};
    let loopMax = 0;
    let loopP99 = 0;
    for (const stream of [false, true]) {
      for (const c of [10, 100]) {
        for (let rep = 0; rep < 3; rep++) {
          for (let k = 0; k < through.length; k++) {
            const t = through[(rep + k) % through.length]!;
            const key = `${stream ? "streamed" : "non-streamed"}|${c}|${t.name}`;
            const measured = t.name === "parley" && c === 10;
            if (measured) await loop.mark(parley.pid);
            const r = await load(t, stream, c);
            if (measured) {
              const f = await loop.read(parley.pid);
              loopMax = Math.max(loopMax, f.maxMs);
              loopP99 = Math.max(loopP99, f.p99Ms);
            }
            const e = (rps[key] ??= { rps: [], errors: 0, load: [] });
            e.rps.push(r.rps);
            e.errors += r.errors;
            e.load.push(r.load);
            await upstream.clear();
          }
        }
      }
    }
    const med = (xs: number[]) => pct(xs, 50);
    lines.push(
      "### Throughput (requests per second, autocannon)",
      "",
      `${LOAD_SECONDS} s per run, three repetitions with the order rotated; the median run; 1-minute load average beside it.`,
      "",
      "| request | connections | bare | minimal gateway (its share) | Parley | Parley's share (target ≥ 50 %) | errors (bare / minimal / Parley) | load avg |",
      "|---|---|---|---|---|---|---|---|",
      ...Object.keys(rps)
        .filter((k) => k.endsWith("|bare"))
        .map((k) => {
          const [mode, c] = k.split("|");
          const b = rps[k]!;
          const m = rps[`${mode}|${c}|minimal`]!;
          const p = rps[`${mode}|${c}|parley`]!;
          const share = (x: typeof b) => `${((100 * med(x.rps)) / med(b.rps)).toFixed(1)} %`;
          return `| ${mode} | ${c} | ${fmt(med(b.rps))} | ${fmt(med(m.rps))} (${share(m)}) | ${fmt(med(p.rps))} | ${share(p)} | ${b.errors} / ${m.errors} / ${p.errors} | ${fmt(Math.max(...b.load, ...m.load, ...p.load))} |`;
        }),
      "",
      "The minimal gateway does only what any gateway must: reads the client's JSON, asks the upstream for a stream",
      "through undici, parses its events and answers (no auth, routing, limits, failover, metering or log). What lies",
      "between its share and Parley's is the cost of Parley's own machinery.",
      "",
      `Event-loop delay inside Parley during its c=10 runs: max ${fmt(loopMax)} ms, p99 ${fmt(loopP99)} ms (target: max ≤ 20 ms).`,
      "",
    );

    progress("memory per stream");
    // Memory per open stream: slow streams (a chunk a second), all open at once, three bursts, on a
    // Parley started afresh (after the load runs its heap is large enough to hide them), after a few requests.
    await parley.stop();
    parley = await startParley({ dataDir, env: parleyEnv });
    targets[2]!.url = `${parley.url}/v1/chat/completions`;
    for (let i = 0; i < 50; i++) await timeOne(agent, targets[2]!, true);
    await upstream.setDefault({ kind: "stream", chunks: ["s1 ", "s2 ", "s3 "], delayMs: 1000 });
    const bursts: { name: string; before: number; peak: number; completed: number }[] = [];
    const heldAfter: number[] = [(await heapAfterGc(loopReport, parley.pid)).heapUsedMb];
    for (const t of targets.slice(1)) {
      const pid = t.name === "parley" ? parley.pid : bare.proc.pid!;
      for (let b = 0; b < 3; b++) {
        bursts.push({ name: t.name, ...(await slowBurst(pid, t, SLOW_STREAMS)) });
        progress(`burst ${b + 1} of ${t.name}: ${JSON.stringify(bursts.at(-1))}`);
        await upstream.clear();
        if (t.name === "parley") heldAfter.push((await heapAfterGc(loopReport, parley.pid)).heapUsedMb);
      }
      bursts.push({ name: `${t.name} after`, before: rssOf(pid), peak: rssOf(pid), completed: 0 });
    }
    lines.push(
      `### Memory per open stream (${SLOW_STREAMS} slow streams at once, three bursts)`,
      "",
      "| server | burst | RSS before (MB) | RSS with all open (MB) | per stream (KB; target ≤ 64) | completed |",
      "|---|---|---|---|---|---|",
      ...bursts
        .filter((b) => !b.name.endsWith("after"))
        .map((b, i) => `| ${b.name} | ${(i % 3) + 1} | ${fmt(b.before)} | ${fmt(b.peak)} | ${fmt(((b.peak - b.before) * 1024) / SLOW_STREAMS)} | ${b.completed} / ${SLOW_STREAMS} |`),
      "",
      `RSS after the three bursts: ${bursts.filter((b) => b.name.endsWith("after")).map((b) => `${b.name.replace(" after", "")} ${fmt(b.before)} MB`).join(", ")} (growth over the bursts: first burst's "before" to this).`,
      "",
      `Parley's heap after a full collection (\`--expose-gc\`), before the bursts and after each: ${heldAfter.map(fmt).join(" → ")} MB. What the streams`,
      "leave held; RSS above is V8's and the allocator's high-water mark, which they do not hand back promptly.",
      "",
    );

    progress("failover");
    // Failover: the primary answers 503, the next model the stream; then its circuit is open.
    await upstream.setDefault({ kind: "stream", chunks: CHUNKS });
    const parleyT = targets[2]!;
    const roleplay = (stream: boolean) => timeOne(agent, { ...parleyT }, stream, "parley/roleplay");
    const normal: number[] = [];
    const failover: number[] = [];
    const rtt503: number[] = [];
    for (let i = 0; i < 60; i++) {
      normal.push((await roleplay(true)).first);
      await upstream.forModel("scripted/503", { kind: "status", status: 503 }, 1);
      const s = await timeOne(agent, targets[0]!, false, "scripted/503");
      rtt503.push(s.total);
      await upstream.forModel(MODEL, { kind: "status", status: 503 }, 1);
      failover.push((await roleplay(true)).first);
    }
    lines.push("### Failover", "");
    lines.push(
      `After a 503 from the primary (the breaker's threshold not reached): first chunk p50 ${fmt(pct(failover, 50))} ms against ${fmt(pct(normal, 50))} ms with no failure; the difference ${fmt(pct(failover, 50) - pct(normal, 50))} ms against the 503's own round trip ${fmt(pct(rtt503, 50))} ms (target: ≤ round trip + 1 ms).`,
    );
    // Open the primary's circuit: failures until the breaker opens, then time requests while it stays open.
    await upstream.forModel(MODEL, { kind: "status", status: 503 }, 50);
    for (let i = 0; i < 50; i++) await roleplay(false);
    await upstream.clear();
    const openFirst: number[] = [];
    const before = (await upstream.byModel())[MODEL] ?? 0;
    for (let i = 0; i < 60; i++) openFirst.push((await roleplay(true)).first);
    const primaryCalls = ((await upstream.byModel())[MODEL] ?? 0) - before;
    lines.push(
      `With the primary's circuit open: first chunk p50 ${fmt(pct(openFirst, 50))} ms against ${fmt(pct(normal, 50))} ms with the primary answering (added ${fmt(pct(openFirst, 50) - pct(normal, 50))} ms; target ≤ 0.2 ms), ${primaryCalls} calls to the primary (target 0).`,
      "",
    );
    progress("compression");
    lines.push(...(await compression(parley.url)));
    await agent.close();
  } finally {
    await parley?.stop();
    upstream.stop();
    bare.proc.kill();
    minimal.proc.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }

  lines.push(...(await idleMemory()), ...(await webWeight()));
  return `## The gateway against a bare proxy (issue 15)

Processes of their own on loopback: the scripted upstream, a bare \`node:http\` pass-through
(bench/gateway/bare-proxy.mjs), for throughput a minimal gateway (bench/gateway/minimal-gateway.mjs), and Parley's
\`/v1\` (PGlite, the request log on). Model \`${MODEL}\`.

${lines.join("\n")}
`;
}

/** What Parley answers a browser that accepts br and gzip, by kind of content. */
async function compression(base: string): Promise<string[]> {
  const html = await (await fetch(`${base}/`)).text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
  const scenarios = (await (await fetch(`${base}/api/scenarios`)).json()) as { scenarios: { avatarStyle: string; avatarSeed: string }[] };
  const first = scenarios.scenarios[0];
  const avatar = first && `/avatars/${encodeURIComponent(first.avatarStyle)}/${encodeURIComponent(first.avatarSeed)}.svg`;
  const rows: string[] = [];
  for (const [kind, url] of [["HTML", "/"], ["JS", script], ["CSS", style], ["JSON", "/api/scenarios"], ["SVG", avatar]] as const) {
    if (!url) {
      rows.push(`| ${kind} | (not found) | |`);
      continue;
    }
    const res = await request(`${base}${url}`, { headers: { "accept-encoding": "br, gzip" } });
    const bytes = (await res.body.arrayBuffer()).byteLength;
    rows.push(`| ${kind} | ${res.headers["content-encoding"] ?? "none"} | ${bytes} |`);
  }
  return ["### Compression (Accept-Encoding: br, gzip)", "", "| content | Content-Encoding | bytes sent |", "|---|---|---|", ...rows, ""];
}

/**
 * Parley's RSS idle after start on the embedded default: a fresh data directory, again, and with
 * 100,000 messages stored. Read 3 s after start, and once settled (15 s and 30 s: V8 gives back start-up's
 * young generation after some seconds of idleness, typically 45–60 MB, but not at a fixed time).
 */
async function idleMemory(): Promise<string[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "parley-bench-idle-"));
  const idle = async () => {
    const p = await startParley({ dataDir, env: { LOG_LEVEL: "info" } });
    try {
      await sleep(3000);
      const early = rssOf(p.pid);
      await sleep(12_000);
      const settled = rssOf(p.pid);
      // V8's memory reducer gives start-up's young generation back after some idle seconds, not always within 15.
      await sleep(15_000);
      return { early, settled, later: rssOf(p.pid) };
    } finally {
      await p.stop();
    }
  };
  try {
    progress("idle memory");
  const first = await idle();
    const again = await idle();
    const handle = await openDatabase({ dataDir });
    await seedDefaults(handle.db);
    await writeLongThread(handle.db, "c".repeat(32), 100_000);
    await handle.close();
    const full = await idle();
    return [
      "### Idle memory, embedded default (PGlite)",
      "",
      "| start | RSS 3 s after start | settled (15 s) | 30 s |",
      "|---|---|---|---|",
      `| first (fresh data directory) | ${fmt(first.early)} MB | ${fmt(first.settled)} MB | ${fmt(first.later)} MB |`,
      `| next | ${fmt(again.early)} MB | ${fmt(again.settled)} MB | ${fmt(again.later)} MB |`,
      `| with 100,000 messages stored | ${fmt(full.early)} MB | ${fmt(full.settled)} MB | ${fmt(full.later)} MB |`,
      "",
      `Targets: ≤ 250 MB; ≤ +50 MB with the messages (at 30 s: ${fmt(full.later - again.later)} MB, at 15 s: ${fmt(full.settled - again.settled)} MB, at 3 s: ${fmt(full.early - again.early)} MB). A fresh data directory is made, with its schema, in a child process that exits (initdb alone grows PGlite's memory to ~800 MB, which a process never gives back); PGlite runs with 16 MB of shared buffers; Parley runs as the bundle \`npm start\` builds, without a TypeScript loader.`,
      "",
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What the gallery and a chat page load (gzip, production build), and whether Parley compresses it. */
async function webWeight(): Promise<string[]> {
  const dist = new URL("../dist/web/", import.meta.url);
  const html = readFileSync(new URL("index.html", dist), "utf8");
  const entry = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8")) as Record<
    string,
    { file: string; css?: string[]; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean; src?: string }
  >;
  const gz = (file: string) => gzipSync(readFileSync(new URL(file, dist))).length / 1024;
  const closure = (keys: string[]) => {
    const files = new Set<string>();
    const walk = (k: string) => {
      const e = manifest[k];
      if (!e || files.has(e.file)) return;
      files.add(e.file);
      e.css?.forEach((c) => files.add(c));
      e.imports?.forEach(walk);
    };
    keys.forEach(walk);
    return files;
  };
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  const gallery = new Set([...entry, ...closure([entryKey])]);
  const chatKeys = Object.keys(manifest).filter((k) => /pages\/Chat\.tsx$/.test(k));
  const chat = new Set([...gallery, ...closure(chatKeys)]);
  const size = (files: Set<string>) => [...files].reduce((n, f) => n + gz(f), 0);
  return [
    "### Web app weight (gzip, production build)",
    "",
    `The gallery loads ${fmt(size(gallery))} KB of JS and CSS (target ≤ 80 KB); a chat ${fmt(size(chat))} KB (target ≤ 130 KB).`,
    "",
  ];
}
