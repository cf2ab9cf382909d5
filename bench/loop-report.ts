/**
 * The event loop's delay inside a benchmarked Parley (bench/loop-monitor.mjs, preloaded with
 * NODE_OPTIONS=--import): `mark()` starts a phase, `read()` gives its figures. The report comes back
 * through a file on a signal.
 */
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Preloads the monitor into a Parley started with these variables. */
export const loopMonitorEnv = (reportFile: string) => ({
  NODE_OPTIONS: `--import=${new URL("./loop-monitor.mjs", import.meta.url).href}`,
  PARLEY_LOOP_REPORT: reportFile,
  // BENCH_PROF_DIR: where Parley writes a CPU profile of each phase, to see where a stall comes from.
  PARLEY_CPU_PROFILE_DIR: process.env.BENCH_PROF_DIR,
});

export type LoopFigures = { seq: number; maxMs: number; p99Ms: number };

export function loopMonitor(reportFile: string) {
  let seq = 0;
  const ask = async (pid: number): Promise<LoopFigures> => {
    seq += 1;
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 400; i++) {
      if (existsSync(reportFile)) {
        const r = JSON.parse(readFileSync(reportFile, "utf8")) as LoopFigures;
        if (r.seq === seq) return r;
      }
      await sleep(5);
    }
    throw new Error("the loop monitor did not report");
  };
  return { mark: (pid: number) => ask(pid).then(() => undefined), read: ask };
}

