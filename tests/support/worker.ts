import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BUILT_DIR, spawnUntil, stopProcess } from "./parley.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * The tiny GGUF models the worker tests run on, read where they lie (never copied into the project).
 * PARLEY_TEST_MODELS points elsewhere; by default the workplace's `shared/models` beside the project,
 * else beside a folder further up (a clone made in a subfolder), else beside the repository a clone
 * was made from (a clone made somewhere else entirely). No machine's path is written down.
 */
function besideAncestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    out.push(path.join(path.dirname(d), "shared", "models"));
    if (path.dirname(d) === d) return out;
  }
}

function clonedFrom(): string | undefined {
  try {
    const url = execFileSync("git", ["config", "--get", "remote.origin.url"], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const local = url.startsWith("file://") ? url.slice("file://".length) : url;
    return path.isAbsolute(local) && existsSync(local) ? local : undefined;
  } catch {
    return undefined;
  }
}

const origin = clonedFrom();
const MODEL_DIRS = process.env.PARLEY_TEST_MODELS
  ? [path.resolve(process.env.PARLEY_TEST_MODELS)]
  : [...besideAncestors(ROOT), ...(origin ? besideAncestors(origin) : [])];
export const TEST_MODELS_DIR = MODEL_DIRS.find((d) => existsSync(d)) ?? MODEL_DIRS[0]!;

export type TestModel = { path: string; available: true } | { path: string; available: false; reason: string };

/**
 * A test model, or why it is missing. Under CI a missing model throws (the run fails naming the path);
 * elsewhere the caller skips its suite and says why.
 */
export function testModel(file: string): TestModel {
  const p = path.join(TEST_MODELS_DIR, file);
  if (existsSync(p)) return { path: p, available: true };
  const reason = `test model ${p} is missing (set PARLEY_TEST_MODELS to the folder holding ${file})`;
  if (process.env.CI === "true") throw new Error(`${reason}; under CI=true the worker tests must run`);
  console.warn(`SKIPPED worker tests: ${reason}`);
  return { path: p, available: false, reason };
}

export type WorkerProcess = {
  url: string;
  /** The OpenAI base URL, as a provider row would hold it. */
  baseUrl: string;
  port: number;
  logs: string[];
  child: ChildProcess;
  stop(): Promise<void>;
};

/** The worker as the tests run it: the bundle built beside the server's (see global-setup.ts). */
const WORKER_ENTRY = path.join(BUILT_DIR, "worker", "main.js");

/** Starts the worker as `npm run worker` would, on a free port, and waits until its model is loaded. */
export async function startWorker(env: Record<string, string | undefined>): Promise<WorkerProcess> {
  const full: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    CHAT_WORKER_PORT: "0",
    CHAT_WORKER_THREADS: "1",
    LOG_LEVEL: "info",
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v;
  // Ready once the model is loaded; the port comes from the "listening" line before it.
  let listening: number | undefined;
  const { child, logs, ready: port } = await spawnUntil("the worker", WORKER_ENTRY, full, (line) => {
    if (line.includes('"msg":"listening"')) listening = (JSON.parse(line) as { port: number }).port;
    return line.includes('"msg":"model loaded"') ? listening : undefined;
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, baseUrl: `${url}/v1`, port, logs, child, stop: () => stopProcess(child) };
}

/** Runs the worker to its exit and returns its code and output (for start-up failures). */
export function runWorkerToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CHAT_WORKER_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
