// Preloaded into a benchmarked Parley (NODE_OPTIONS=--import): measures the event loop's delay
// with perf_hooks, and on SIGUSR2 writes the figures since the last report to PARLEY_LOOP_REPORT,
// then starts over. With PARLEY_CPU_PROFILE_DIR it also writes a CPU profile of each phase there
// (node refuses --cpu-prof in NODE_OPTIONS). Bench-only: nothing of Parley's own code knows of it.
import { renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

const out = process.env.PARLEY_LOOP_REPORT;
const profileDir = process.env.PARLEY_CPU_PROFILE_DIR;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let seq = 0;
  const session = profileDir ? new Session() : undefined;
  if (session) {
    session.connect();
    // 100 µs between samples (the default is 1 ms): a stall of 20 ms is then 200 samples, enough to see its parts.
    session.post("Profiler.enable", () => session.post("Profiler.setSamplingInterval", { interval: 100 }, () => session.post("Profiler.start")));
  }
  process.on("SIGUSR2", () => {
    seq += 1;
    // Written aside and renamed: the bench never reads a half-written report.
    writeFileSync(`${out}.tmp`, JSON.stringify({ seq, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6 }));
    renameSync(`${out}.tmp`, out);
    h.reset();
    session?.post("Profiler.stop", (err, res) => {
      if (!err) writeFileSync(path.join(profileDir, `${process.pid}-phase-${seq}.cpuprofile`), JSON.stringify(res.profile));
      session.post("Profiler.start");
    });
  });
}

// SIGWINCH: the heap a full collection leaves (with --expose-gc), written to PARLEY_LOOP_REPORT.gc.
// RSS alone cannot tell memory held from memory not yet collected. Its own signal, so the
// collection's pause never lands in a phase whose event-loop delay is being measured.
if (out && globalThis.gc) {
  process.on("SIGWINCH", () => {
    globalThis.gc();
    writeFileSync(`${out}.gc.tmp`, JSON.stringify({ heapUsedMb: process.memoryUsage().heapUsed / 1048576, rssMb: process.memoryUsage().rss / 1048576 }));
    renameSync(`${out}.gc.tmp`, `${out}.gc`);
  });
}
