import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildNode } from "../../scripts/build-node.mjs";

export type ParleyProcess = {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  /** Every line the server printed, stdout and stderr, for assertions on logs. */
  logs: string[];
  stop(): Promise<void>;
  /** A fetch that keeps a cookie jar, as one browser would. */
  client(): Client;
};

export type Client = {
  /** The cookies this client holds, to carry them to another instance (or a restarted one). */
  cookie(): string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }>;
};

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Where the tests' own build of the server and the worker goes (what `npm start` runs, built apart from a developer's dist/). */
export const BUILT_DIR = path.join(ROOT, "test-results", "node");

/** Builds the server and worker bundles the tests and benchmarks start (esbuild: well under a second). */
export const buildEntries = () => buildNode(BUILT_DIR);

/**
 * Starts Parley as a real process (the same entry point as `npm start`) on a free port with its
 * own data directory. The environment is built from scratch so nothing of the developer's
 * (an OPENROUTER_API_KEY, say) leaks into a test.
 */
export async function startParley(
  opts: {
    env?: Record<string, string | undefined>;
    dataDir?: string;
    /** Run as this system user (when the tests run as root), so file permissions apply to Parley. */
    user?: { uid: number; gid: number };
  } = {},
): Promise<ParleyProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), "parley-test-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    PARLEY_DATA_DIR: dataDir,
    LOG_LEVEL: "debug",
    PARLEY_WEB_DIR: path.join(ROOT, "test-results", "web"),
    // The scripted upstreams listen on loopback; the rule that refuses private targets has its own test.
    ALLOW_PRIVATE_UPSTREAMS: "true",
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  // The starter learns the port from the "listening" line, logged at info.
  if (["warn", "error", "fatal", "silent"].includes(env.LOG_LEVEL!)) throw new Error("startParley needs LOG_LEVEL info or lower");

  const { child, logs, ready: port } = await spawnUntil(
    "Parley",
    path.join(BUILT_DIR, "server", "main.js"),
    env,
    (line) => (line.includes('"msg":"listening"') ? (JSON.parse(line) as { port: number }).port : undefined),
    opts.user,
  );

  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    pid: child.pid!,
    dataDir,
    logs,
    stop: async () => {
      await stopProcess(child);
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    client: () => cookieClient(url),
  };
}

/**
 * Starts one of our entry points (a built bundle as is, a source file under tsx) and waits (60 s at
 * most) until `isReady` finds what it looks for in a line of its output; fails with everything it
 * printed if it exits first.
 */
export async function spawnUntil<T>(
  name: string,
  script: string,
  env: Record<string, string>,
  isReady: (line: string) => T | undefined,
  user?: { uid: number; gid: number },
): Promise<{ child: ChildProcess; logs: string[]; ready: T }> {
  const args = script.endsWith(".js") ? [script] : ["--import", "tsx", script];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], ...user });
  const logs: string[] = [];
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} was not ready within 60 s`)), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${err.message}\n--- ${name} output ---\n${logs.join("\n")}`));
    };
    const onLine = (line: string) => {
      logs.push(line);
      const found = isReady(line);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    readLines(child.stdout!, onLine);
    readLines(child.stderr!, onLine);
    child.once("exit", (code) => fail(new Error(`${name} exited with code ${code} before it was ready`)));
  });
  child.removeAllListeners("exit");
  return { child, logs, ready };
}

export function readLines(stream: NodeJS.ReadableStream, onLine: (l: string) => void) {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export function cookieClient(base: string, initialCookie = ""): Client {
  let cookie = initialCookie;
  const doFetch = async (p: string, init: RequestInit = {}): Promise<Response> => {
    // Parley gives a browser its id on a page load, never on a change: a new client loads first, as a browser would.
    if (!cookie && init.method && init.method !== "GET") await (await doFetch("/api/sessions")).body?.cancel();
    const headers = new Headers(init.headers);
    if (cookie) headers.set("cookie", cookie);
    if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
    const res = await fetch(/^https?:\/\//.test(p) ? p : base + p, { ...init, headers });
    const set = res.headers.getSetCookie();
    if (set.length) cookie = set.map((c) => c.split(";")[0]).join("; ");
    return res;
  };
  return {
    cookie: () => cookie,
    fetch: doFetch,
    json: async <T>(p: string, init?: RequestInit) => {
      const res = await doFetch(p, init);
      return { status: res.status, body: (await res.json()) as T, headers: res.headers };
    },
  };
}

/** Starts a session for this client, as the web app does on the first message. */
export async function createSession(c: Client, scenario = "refund-request"): Promise<string> {
  const { status, body } = await c.json<{ session: { id: string } }>("/api/sessions", {
    method: "POST",
    body: JSON.stringify({ scenario }),
  });
  if (status !== 201) throw new Error(`creating a session answered ${status}: ${JSON.stringify(body)}`);
  return body.session.id;
}

/** Reads a streaming response until `text` has arrived, leaving the rest of the stream unread. */
export async function readUntil(res: Response, text: string): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before "${text}" arrived; got: ${seen}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

/** Reads a server-sent event stream to its end. */
export async function readSse(res: Response): Promise<{ event: string; data: any }[]> {
  const { EventSourceParserStream } = await import("eventsource-parser/stream");
  const out: { event: string; data: any }[] = [];
  const events = res.body!.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream());
  for await (const ev of events) out.push({ event: ev.event ?? "message", data: JSON.parse(ev.data) });
  return out;
}
