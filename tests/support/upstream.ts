import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A scripted OpenAI-compatible upstream: the one stand-in the tests use for a model provider.
 * Each request takes the next script queued for its model (or for any model), else the default.
 */
export type Script =
  | {
      kind: "stream";
      /** Text of the reply, piece by piece; an object is sent as a chunk's whole delta (tool calls, reasoning). */
      chunks: (string | Record<string, unknown>)[];
      /** Pause between chunks, as a slow model would. */
      delayMs?: number;
      usage?: { prompt_tokens: number; completion_tokens: number; cost?: number; [detail: string]: unknown } | null;
      finishReason?: string;
      /** Send `: OPENROUTER PROCESSING` comments before the first chunk. */
      keepAlives?: number;
      /** After this many chunks, wait for `resume()` before sending the rest: a test can look mid-stream. */
      pauseAfter?: number;
      /** After this many chunks, stop sending and hold the connection open until the client leaves. */
      holdAfter?: number;
      /** After this many chunks, destroy the socket: a stream cut midway. */
      cutAfter?: number;
      /** After this many chunks, send an OpenRouter-style error event. */
      errorAfter?: { chunks: number; message: string };
      /** Insert a chunk that is not JSON at this index. */
      malformedAt?: number;
    }
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Send 200 headers, then nothing. */
  | { kind: "headers-then-hang" };

export type RecordedRequest = {
  path: string;
  headers: IncomingMessage["headers"];
  body: {
    model: string;
    messages: { role: string; content: string }[];
    stream?: boolean;
    temperature?: number;
    max_tokens?: number;
    top_p?: number;
    [k: string]: unknown;
  };
  /** Resolves when the client's connection to us closes, e.g. because Parley cancelled it. */
  closed: Promise<void>;
};

const DEFAULT_SCRIPT: Script = {
  kind: "stream",
  chunks: ["*smiles warmly* ", "Hello ", "from the ", "scripted ", "upstream."],
  usage: { prompt_tokens: 42, completion_tokens: 7, cost: 0.000123 },
};

export class ScriptedUpstream {
  readonly requests: RecordedRequest[] = [];
  private server: Server;
  private queue: Script[] = [];
  private byModel = new Map<string, Script[]>();
  private defaultScript: Script = DEFAULT_SCRIPT;
  private chooser: ((model: string) => Script) | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];
  private sockets = new Set<import("node:net").Socket>();
  private gates: (() => void)[] = [];
  /** resume() calls that came before any stream reached its pause: the next pause passes straight on. */
  private earlyResumes = 0;
  port = 0;
  /** What `GET …/health` answers, as the local chat worker would. */
  health: { status: number; body: unknown } = { status: 200, body: { isHealthy: true } };
  healthProbes = 0;
  /** `POST …/tokenize` calls, answered as the local chat worker would (a token per 4 characters); not in `requests`. */
  tokenizeCalls = 0;
  /** What `GET …/models` answers (OpenRouter's shape), and the headers each such request carried. */
  models: { status: number; body: unknown } = {
    status: 200,
    body: {
      data: [
        { id: "scripted/lively-7b", name: "Scripted: Lively 7B", context_length: 32768, pricing: { prompt: "0.000002", completion: "0.000006" } },
        { id: "scripted/tiny", name: "Scripted: Tiny", context_length: 4096, pricing: { prompt: "0", completion: "0" } },
      ],
    },
  };
  modelListings: RecordedRequest["headers"][] = [];

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<ScriptedUpstream> {
    const u = new ScriptedUpstream();
    await new Promise<void>((resolve) => u.server.listen(0, "127.0.0.1", resolve));
    u.port = (u.server.address() as AddressInfo).port;
    return u;
  }

  /** The base URL to configure as OPENROUTER_BASE_URL. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api/v1`;
  }

  /** Queue scripts for the next requests, whatever model they name. */
  enqueue(...scripts: Script[]): this {
    this.queue.push(...scripts);
    return this;
  }

  /** Queue scripts for the next requests that name this model. */
  forModel(model: string, ...scripts: Script[]): this {
    this.byModel.set(model, [...(this.byModel.get(model) ?? []), ...scripts]);
    return this;
  }

  setDefault(script: Script): this {
    this.defaultScript = script;
    return this;
  }

  /** Picks each request's script (when none is queued) by a function: a soak's random faults. */
  setChooser(choose: ((model: string) => Script) | undefined): this {
    this.chooser = choose;
    return this;
  }

  reset(): void {
    this.resume();
    this.earlyResumes = 0;
    this.queue = [];
    this.byModel.clear();
    this.defaultScript = DEFAULT_SCRIPT;
    this.chooser = undefined;
    this.requests.length = 0;
    this.health = { status: 200, body: { isHealthy: true } };
  }

  /**
   * Lets every stream paused by `pauseAfter` go on. Called before the stream has got that far (the
   * test saw the page react to the click, not the upstream reach its pause), it lets the next pause pass.
   */
  resume(): void {
    if (this.gates.length === 0) this.earlyResumes++;
    const gates = this.gates;
    this.gates = [];
    gates.forEach((open) => open());
  }

  /** Resolves once `n` requests in all have arrived. */
  waitForRequests(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private next(model: string): Script {
    const forModel = this.byModel.get(model);
    if (forModel?.length) return forModel.shift()!;
    if (this.queue.length) return this.queue.shift()!;
    return this.chooser?.(model) ?? this.defaultScript;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method === "GET" && req.url?.endsWith("/health")) {
      this.healthProbes++;
      res.writeHead(this.health.status, { "Content-Type": "application/json" }).end(JSON.stringify(this.health.body));
      return;
    }
    if (req.method === "GET" && req.url?.endsWith("/models")) {
      this.modelListings.push(req.headers);
      res.writeHead(this.models.status, { "Content-Type": "application/json" }).end(JSON.stringify(this.models.body));
      return;
    }
    let raw = "";
    for await (const chunk of req) raw += chunk;
    if (req.method === "POST" && req.url?.endsWith("/tokenize")) {
      this.tokenizeCalls++;
      const { texts } = JSON.parse(raw) as { texts: string[] };
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ model: "scripted", counts: texts.map((t) => Math.ceil(t.length / 4)) }));
      return;
    }
    let body: RecordedRequest["body"];
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { message: "bad json" } }));
      return;
    }
    const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
    this.requests.push({ path: req.url ?? "", headers: req.headers, body, closed });
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.n ? (w.resolve(), false) : true));

    const script = this.next(body.model);
    switch (script.kind) {
      case "status":
        res.writeHead(script.status, { "Content-Type": "application/json", ...script.headers });
        // A string body goes as it is (an HTML error page, say); anything else as JSON.
        res.end(typeof script.body === "string" ? script.body : JSON.stringify(script.body ?? { error: { message: `scripted ${script.status}`, code: script.status } }));
        return;
      case "hang":
        return; // the request stays open until the client gives up
      case "headers-then-hang":
        res.writeHead(200, { "Content-Type": "text/event-stream" });
        res.flushHeaders();
        return;
      case "stream":
        // Asked for one answer (as a bare pass-through's client may; Parley always streams): the chunks joined.
        if (body.stream === false) return this.whole(script, body.model, res);
        await this.stream(script, body.model, res, closed);
    }
  }

  private whole(s: Extract<Script, { kind: "stream" }>, model: string, res: ServerResponse) {
    const usage = s.usage === null ? undefined : (s.usage ?? { prompt_tokens: 10, completion_tokens: s.chunks.length });
    res.writeHead(200, { "Content-Type": "application/json" }).end(
      JSON.stringify({
        id: "chatcmpl-scripted",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: "assistant", content: s.chunks.filter((c) => typeof c === "string").join("") }, finish_reason: s.finishReason ?? "stop" }],
        ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
      }),
    );
  }

  private async stream(s: Extract<Script, { kind: "stream" }>, model: string, res: ServerResponse, closed: Promise<void>) {
    let open = true;
    void closed.then(() => (open = false));
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const send = (data: unknown) => res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
    // A cut after data the client really received: flush what was written, then drop the socket.
    const cut = async () => {
      await new Promise<void>((r) => res.write("", () => r()));
      res.socket?.destroy();
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      id: "chatcmpl-scripted",
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });

    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    for (let i = 0; i < (s.keepAlives ?? 0); i++) res.write(": OPENROUTER PROCESSING\n\n");
    send(chunk({ role: "assistant", content: "" }));
    for (let i = 0; i < s.chunks.length; i++) {
      if (!open) return;
      if (s.pauseAfter === i) {
        if (this.earlyResumes > 0) this.earlyResumes--;
        else await Promise.race([new Promise<void>((r) => this.gates.push(r)), closed]);
      }
      if (!open) return;
      if (s.holdAfter === i) return void (await closed);
      if (s.cutAfter === i) return void (await cut());
      if (s.errorAfter?.chunks === i) {
        send({ error: { code: 502, message: s.errorAfter.message }, choices: [{ index: 0, delta: {}, finish_reason: "error" }] });
        return void res.end();
      }
      if (s.malformedAt === i) send("{not json");
      const piece = s.chunks[i]!;
      send(chunk(typeof piece === "string" ? { content: piece } : piece));
      if (s.delayMs) await pause(s.delayMs);
    }
    if (s.holdAfter === s.chunks.length) return void (await closed);
    if (s.cutAfter === s.chunks.length) return void (await cut());
    send(chunk({}, s.finishReason ?? "stop"));
    if (s.usage !== null) {
      const usage = s.usage ?? { prompt_tokens: 10, completion_tokens: s.chunks.length };
      send({ ...chunk({}), choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    }
    send("[DONE]");
    res.end();
  }
}
