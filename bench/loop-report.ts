/**
 * The event loop's delay inside a benchmarked Parley (bench/loop-monitor.mjs, preloaded with
 * NODE_OPTIONS=--import): `mark()` starts a phase, `read()` gives its figures. The report comes back
 * through a file on a signal.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Preloads the monitor into a Parley started with these variables. */
export const loopMonitorEnv = (reportFile: string) => ({
  // --expose-gc: `heapAfterGc` can tell memory held from memory not yet collected.
  NODE_OPTIONS: `--expose-gc --import=${new URL("./loop-monitor.mjs", import.meta.url).href}`,
  PARLEY_LOOP_REPORT: reportFile,
  // BENCH_PROF_DIR: where Parley writes a CPU profile of each phase, to see where a stall comes from.
  PARLEY_CPU_PROFILE_DIR: process.env.BENCH_PROF_DIR,
});

/** The heap (and RSS) left after a full collection in a process started with `loopMonitorEnv`. */
export async function heapAfterGc(reportFile: string, pid: number): Promise<{ heapUsedMb: number; rssMb: number }> {
  rmSync(`${reportFile}.gc`, { force: true });
  process.kill(pid, "SIGWINCH");
  return awaitReport(`${reportFile}.gc`, () => true, "the heap probe did not report");
}

/** The JSON report in `file` once it is there and `fits`, polled for up to two seconds. */
async function awaitReport<T>(file: string, fits: (r: T) => boolean, missing: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(file)) {
      const r = JSON.parse(readFileSync(file, "utf8")) as T;
      if (fits(r)) return r;
    }
    await sleep(5);
  }
  throw new Error(missing);
}

export type LoopFigures = { seq: number; maxMs: number; p99Ms: number };

export function loopMonitor(reportFile: string) {
  let seq = 0;
  const ask = async (pid: number): Promise<LoopFigures> => {
    seq += 1;
    process.kill(pid, "SIGUSR2");
    return awaitReport<LoopFigures>(reportFile, (r) => r.seq === seq, "the loop monitor did not report");
  };
  return { mark: (pid: number) => ask(pid).then(() => undefined), read: ask };
}

