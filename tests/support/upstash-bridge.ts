import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Redis } from "ioredis";

/**
 * A test-only stand-in for Upstash's REST front door over a real redis-server, speaking the
 * documented protocol: a command is a JSON array POSTed to `/` (answered `{"result"}` or
 * `{"error"}`), `/pipeline` and `/multi-exec` take an array of them, every call needs
 * `Authorization: Bearer <token>`, and with `Upstash-Encoding: base64` string results come back
 * base64-encoded. Nothing of Upstash's own code runs here; the client libraries under test are
 * the real `@upstash/redis` and `@upstash/ratelimit`.
 */
export class UpstashBridge {
  /** Every command received, for assertions that the limiter really went through the bridge. */
  readonly commands: string[][] = [];

  private constructor(
    private readonly server: Server,
    private readonly redis: Redis,
    readonly url: string,
    readonly token: string,
  ) {}

  static async start(redisUrl: string, token: string): Promise<UpstashBridge> {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await redis.connect();
    let bridge: UpstashBridge | undefined;
    const server = createServer((req, res) => {
      void bridge!.handle(req).then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    bridge = new UpstashBridge(server, redis, `http://127.0.0.1:${port}`, token);
    return bridge;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.redis.disconnect();
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (req.method !== "POST") return { status: 405, body: { error: "only POST with a JSON body is bridged" } };
    if (req.headers.authorization !== `Bearer ${this.token}`) return { status: 401, body: { error: "Unauthorized" } };
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req));
    } catch {
      return { status: 400, body: { error: "ERR failed to parse command" } };
    }
    const base64 = req.headers["upstash-encoding"] === "base64";
    const path = new URL(req.url ?? "/", "http://bridge").pathname.replace(/\/+$/, "");
    if (path === "") {
      if (!isCommand(payload)) return { status: 400, body: { error: "ERR command must be a non-empty JSON array" } };
      const one = await this.run(payload, base64);
      return { status: "error" in one ? 400 : 200, body: one };
    }
    if (path === "/pipeline" || path === "/multi-exec") {
      if (!Array.isArray(payload) || !payload.every(isCommand)) return { status: 400, body: { error: "ERR pipeline must be an array of commands" } };
      if (path === "/pipeline") {
        const results = [];
        for (const command of payload) results.push(await this.run(command, base64));
        return { status: 200, body: results };
      }
      const tx = this.redis.multi(payload.map(([cmd, ...args]) => [String(cmd).toLowerCase(), ...args.map(String)]));
      const replies = (await tx.exec()) ?? [];
      return { status: 200, body: replies.map(([err, value]) => (err ? { error: err.message } : { result: encode(value, base64) })) };
    }
    return { status: 404, body: { error: `no route ${path}` } };
  }

  /** Scripts by the SHA-1 the client computed of its own text, for EVALSHA after a rewrite. */
  private readonly scripts = new Map<string, string>();

  private async run(command: unknown[], base64: boolean): Promise<{ result: unknown } | { error: string }> {
    const [name, ...args] = command.map(String);
    this.commands.push([name!, ...args]);
    const cmd = name!.toUpperCase();
    // Upstash's servers accept script flags Debian's Redis 7.0 does not know (`allow-key-locking`,
    // which @upstash/ratelimit sets); they are dropped here, and EVALSHA of the client's original
    // text is answered with the rewritten script, as Upstash would answer it.
    if ((cmd === "EVAL" || cmd === "SCRIPT") && args.length > 0) {
      const i = cmd === "EVAL" ? 0 : 1;
      if (cmd === "EVAL" || args[0]!.toUpperCase() === "LOAD") {
        const original = args[i]!;
        const sha = createHash("sha1").update(original).digest("hex");
        args[i] = original.replace(/^#!lua flags=[^\n]*/, (line) => line.replace(/,?allow-key-locking/, "").replace(/ flags=$/, ""));
        this.scripts.set(sha, args[i]!);
        if (cmd === "SCRIPT") {
          await this.redis.call("SCRIPT", "LOAD", args[i]!).catch(() => {});
          return { result: encode(sha, base64) };
        }
      }
    }
    if (cmd === "EVALSHA" && this.scripts.has(args[0]!.toLowerCase())) {
      return this.run(["EVAL", this.scripts.get(args[0]!.toLowerCase())!, ...args.slice(1)], base64);
    }
    try {
      return { result: encode(await this.redis.call(name!, ...args), base64) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
}

const isCommand = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0;

function encode(value: unknown, base64: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (typeof value === "string" && base64) return Buffer.from(value).toString("base64");
  if (Buffer.isBuffer(value)) return base64 ? value.toString("base64") : value.toString();
  return value ?? null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
