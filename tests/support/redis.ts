import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./postgres.js";
import { readLines, stopProcess } from "./parley.js";

const REDIS_SERVER = "/usr/bin/redis-server";

/** Servers still running when the test process exits (a failed test that never reached close()). */
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((c) => c.kill("SIGKILL")));

export type TempRedis = {
  url: string;
  port: number;
  /** Stops the server; its port stays reserved for `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, as after a crash without persistence). */
  start(): Promise<void>;
  close(): Promise<void>;
};

/**
 * A throwaway redis-server (Debian's package, installed by scripts/test-services.sh) on a free
 * loopback port, without persistence, stopped and removed by `close()`.
 */
export async function startTempRedis(): Promise<TempRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error("redis-server is not installed: `npm test` installs it (scripts/test-services.sh) — run it as root");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "parley-redis-"));
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = proc;
      running.add(proc);
      proc.once("exit", () => running.delete(proc));
      const out: string[] = [];
      const timer = setTimeout(() => fail(new Error("redis-server was not ready within 20 s")), 20_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        proc.kill("SIGKILL");
        reject(new Error(`${err.message}\n${out.join("\n")}`));
      };
      const onLine = (line: string) => {
        out.push(line);
        if (line.includes("Ready to accept connections")) {
          clearTimeout(timer);
          proc.removeAllListeners("exit");
          resolve();
        }
      };
      readLines(proc.stdout!, onLine);
      readLines(proc.stderr!, onLine);
      proc.once("exit", (code) => fail(new Error(`redis-server exited with code ${code}`)));
    });

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child) await stopProcess(child);
      child = undefined;
    },
    start,
    close: async () => {
      if (child) await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
