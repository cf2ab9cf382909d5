/**
 * The processes a bench section starts beside Parley: the scripted upstream (its own process, so the
 * load generator, the client and the servers measured do not share its thread, and a direct request
 * crosses a process boundary as a request through Parley does), the bare proxy and the minimal gateway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Script } from "../tests/support/upstream.js";

const root = new URL("..", import.meta.url);

export type Child = { proc: ChildProcess; port: number; lines: AsyncIterator<string> };

/** Starts a process that prints `{"port"}` as its first line. */
export async function startChild(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`${args.join(" ")} exited before listening`);
  return { proc, port: (JSON.parse(first.value) as { port: number }).port, lines };
}

/** The scripted upstream in its own process (bench/gateway/upstream-process.ts): commands on stdin, one answer line each. */
export async function startUpstreamProcess() {
  const child = await startChild(["--import", "tsx", "bench/gateway/upstream-process.ts"]);
  const send = async (cmd: object) => {
    child.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
    return JSON.parse((await child.lines.next()).value as string) as { requests: number; byModel?: Record<string, number> };
  };
  return {
    baseUrl: `http://127.0.0.1:${child.port}/api/v1`,
    setDefault: (script: Script) => send({ setDefault: script }),
    forModel: (model: string, script: Script, count: number) => send({ forModel: [model, script, count] }),
    clear: () => send({ clear: true }),
    byModel: async () => (await send({ byModel: true })).byModel ?? {},
    stop: () => void child.proc.kill(),
  };
}
