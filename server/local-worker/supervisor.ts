import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Logger } from "../logger.js";
import { entryArgs, PROJECT_ROOT } from "../project-root.js";

export type WorkerReady = { url: string; model: string; contextSize: number };

export type SupervisorState = "starting" | "ready" | "restarting" | "failed" | "stopped";

export type SupervisorOptions = {
  modelPath: string;
  /** The CHAT_WORKER_* settings to pass on; nothing else of Parley's environment (no API keys) reaches the child. */
  env: Record<string, string>;
  log: Logger;
  onReady: (ready: WorkerReady) => void;
  onDown: (reason: string) => void;
  backoff?: { initialMs: number; maxMs: number };
};

const ROOT = PROJECT_ROOT;
/** A worker that ran this long before dying is restarted at the shortest delay again. */
const STABLE_MS = 60_000;

/**
 * Runs the local chat worker as a child process on loopback: learns its address from its log,
 * tells Parley when it is ready or gone, restarts it with a growing delay when it crashes,
 * and stops it with Parley. A worker that refuses its settings (a bad model file) is not
 * restarted: the same settings would fail the same way; its one-line reason is logged.
 */
export class WorkerSupervisor {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private startedAt = 0;
  private stopping = false;
  state: SupervisorState = "starting";
  restarts = 0;

  constructor(private readonly opts: SupervisorOptions) {
    this.delayMs = opts.backoff?.initialMs ?? 1000;
  }

  start(): void {
    this.stopping = false;
    this.spawnChild();
  }

  private spawnChild(): void {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? ROOT,
      ...this.opts.env,
      CHAT_WORKER_MODEL: this.opts.modelPath,
      // Parley's own worker is reached on loopback only.
      CHAT_WORKER_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    };
    this.state = this.restarts === 0 ? "starting" : "restarting";
    this.startedAt = Date.now();
    // An IPC channel, unused for messages: when Parley dies, it closes and the worker leaves too.
    const child = spawn(process.execPath, entryArgs("worker"), { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    this.child = child;
    let port: number | undefined;
    let loaded = false;
    let refusal: string | undefined;

    const onLine = (line: string) => {
      if (!line.trim()) return;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // Not a log entry: the worker's one-line refusal ("chat worker: cannot read model file …"), or native output.
        if (line.startsWith("chat worker: ")) refusal = line.slice("chat worker: ".length);
        this.opts.log.warn({ component: "worker" }, line);
        return;
      }
      const { level, msg, time: _t, pid: _p, hostname: _h, service: _s, ...fields } = entry;
      // The worker logs with pino too: its numeric level maps back through pino's own labels.
      const label = this.opts.log.levels.labels[level as number] as "info" | undefined;
      this.opts.log[label ?? "info"]({ component: "worker", ...fields }, `worker: ${String(msg)}`);
      if (msg === "listening") port = fields.port as number;
      if (msg === "model loaded" && port !== undefined) {
        loaded = true;
        this.state = "ready";
        this.opts.onReady({ url: `http://127.0.0.1:${port}/v1`, model: String(fields.model), contextSize: Number(fields.contextSize) });
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);

    child.once("exit", (code, signal) => {
      this.child = undefined;
      if (this.stopping) {
        this.state = "stopped";
        return;
      }
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.opts.onDown(refusal ?? how);
      if (refusal && !loaded) {
        this.state = "failed";
        this.opts.log.error({ reason: refusal }, "the local chat worker cannot start; fix its settings and restart Parley");
        return;
      }
      if (Date.now() - this.startedAt > STABLE_MS) this.delayMs = this.opts.backoff?.initialMs ?? 1000;
      this.state = "restarting";
      this.opts.log.warn({ how, retryInMs: this.delayMs }, "the local chat worker stopped; restarting it");
      this.timer = setTimeout(() => {
        this.restarts += 1;
        this.spawnChild();
      }, this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, this.opts.backoff?.maxMs ?? 30_000);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.state = "stopped";
      return;
    }
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
