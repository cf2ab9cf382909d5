import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export type TempPostgres = {
  url: string;
  stop(): void;
  /** Stops the server (as a crash or an operator would: `immediate`), keeping its data, until `start`. */
  halt(): void;
  /** Starts it again on the same port with the same data. */
  start(): void;
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function pgBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(base, v, "bin")).find((d) => existsSync(path.join(d, "initdb")));
  if (!found) throw new Error("PostgreSQL is not installed: `npm test` installs it (scripts/test-services.sh) — run it as root");
  return found;
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port, owned by this test run: created in a
 * temp folder, trusted local auth, removed on stop. As root it runs as the `postgres` user,
 * since Postgres refuses to run as root.
 */
export async function startTempPostgres(): Promise<TempPostgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), "parley-pg-"));
  const dataDir = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    return asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", full, ...args], { stdio: "pipe" })
      : execFileSync(full, args, { stdio: "pipe" });
  };
  if (asRoot) {
    const { uid, gid } = userIds("postgres");
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  run("initdb", ["-D", dataDir, "-U", "parley", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const start = () =>
    run("pg_ctl", [
      "-D",
      dataDir,
      "-l",
      path.join(dir, "server.log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  start();
  run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "parley", "parley_test"]);
  return {
    url: `postgres://parley@127.0.0.1:${port}/parley_test`,
    halt: () => void run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]),
    start: () => void start(),
    stop: () => {
      try {
        run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already halted
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", name]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", name]).toString().trim());
  return { uid, gid };
}
