import { once } from "node:events";
import type { OutgoingHttpHeaders } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { Cancellation } from "../gateway/types.js";
import { merge } from "../merge.js";

/**
 * The hot path of `/v1` talks to Node's request and response directly: reading the body through
 * `c.req` builds a WHATWG Request (with its own body stream), and `streamSSE` pipes every event
 * through a TransformStream; together they cost more than everything the gateway itself does.
 * Parley always runs on @hono/node-server, which hands them over as `c.env`.
 */
const nodeOf = (c: Context): HttpBindings => {
  const env = c.env as Partial<HttpBindings> | undefined;
  if (!env?.incoming || !env.outgoing) throw new Error("/v1 needs Node's request and response (serve it with @hono/node-server)");
  return env as HttpBindings;
};

/** A request header as Node parsed it (Hono's `c.req.header` builds a WHATWG Headers object for it). */
export function requestHeader(c: Context, name: string): string | undefined {
  const value = nodeOf(c).incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The header @hono/node-server marks its "already sent" response with (RESPONSE_ALREADY_SENT). */
const ALREADY_SENT = "x-hono-already-sent";

/**
 * Node's response, when the route wrote it itself (here): Hono's `c.res` is then a placeholder
 * whose status and headers say nothing of what was sent.
 */
export function writtenStraight(c: Context): HttpBindings["outgoing"] | undefined {
  return c.res.headers.has(ALREADY_SENT) ? (c.env as Partial<HttpBindings> | undefined)?.outgoing : undefined;
}

/** What every response written here carries: an API's answer is never to be sniffed as a page. */
const BASE_HEADERS = { "X-Content-Type-Options": "nosniff" };
const EVENT_STREAM_HEADERS = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no" };

/** A JSON answer written straight to Node's response, with the headers given. */
export function writeJson(c: Context, status: number, headers: Record<string, string>, body: unknown): Response {
  const json = JSON.stringify(body);
  nodeOf(c).outgoing.writeHead(status, merge(BASE_HEADERS, headers, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) }));
  nodeOf(c).outgoing.end(json);
  return RESPONSE_ALREADY_SENT;
}

/**
 * Cancelled when the client's connection closes before its answer was written: what the gateway
 * needs of a caller (/v1, the chat, practice, Enhance), without the web Request and AbortController
 * that reading `c.req.raw.signal` makes @hono/node-server build for every request.
 */
export function clientGone(c: Context): Cancellation {
  const res = nodeOf(c).outgoing;
  // Made after the client may have left (the body read, the key admitted): its "close" has come already.
  const gone = new ClientGone(res.destroyed);
  // The listener reaches `res` as `this`, not through its closure, so what it holds keeps no
  // response alive. Capturing it went with 5.5 % of a bare upstream call's allocation promoted
  // against 1.2 % (--trace-gc-nvp, c=10), measured while this object was still a literal with a
  // getter (below): how much of that was the capture's was not measured apart.
  res.once("close", function (this: typeof res) {
    if (!this.writableFinished) gone.abort();
  });
  return gone;
}

/**
 * A class rather than an object literal: a literal with a getter before its methods is turned
 * into a dictionary-mode object at every evaluation (V8's "AccessorsOverwritingNonLast").
 */
class ClientGone implements Cancellation {
  private listeners: (() => void)[] | undefined = undefined;
  constructor(private gone: boolean) {}

  get aborted(): boolean {
    return this.gone;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }

  abort(): void {
    this.gone = true;
    for (const l of this.listeners?.splice(0) ?? []) l();
  }
}

/** The body as text, refused with `tooLarge()` past `maxBytes` (declared or read). */
export async function readBodyText(c: Context, maxBytes: number, tooLarge: () => Error): Promise<string> {
  return (await readBodyBytes(c, maxBytes, tooLarge)).toString("utf8");
}

/**
 * How much of a refused body is read and dropped so that its client gets the 413: a client still
 * sending when the connection closes sees a broken pipe, not the answer (undici's fetch, Python's
 * clients; a 28 MB body did). nginx's lingering close does the same. Past this the connection is
 * closed at once, as before.
 */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Refuses a body with `tooLarge()` once the rest of it has been read and dropped (see
 * DISCARD_MAX_BYTES), so the refusal reaches a client still sending and the connection stays usable;
 * a body beyond that allowance gets its refusal at once, on a connection then closed.
 */
export async function refuseBody(c: Context, received: number, tooLarge: () => Error): Promise<never> {
  if (!(await discardRest(nodeOf(c).incoming, received))) c.header("Connection", "close");
  throw tooLarge();
}

/** Reads what is left of a request's body and drops it; false when it would pass the allowance (or the request broke). */
function discardRest(req: HttpBindings["incoming"], received: number): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  if (Number(req.headers["content-length"] ?? 0) > DISCARD_MAX_BYTES) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let size = received;
    const settle = (ended: boolean) => {
      req.off("data", onData).off("end", onEnd).off("error", onBroken).off("close", onBroken);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > DISCARD_MAX_BYTES) settle(false);
    };
    const onEnd = () => settle(true);
    const onBroken = () => settle(false);
    req.on("data", onData).on("end", onEnd).on("error", onBroken).on("close", onBroken);
    req.resume();
  });
}

/** The body's bytes, refused with `tooLarge()` past `maxBytes` (declared or read). */
export async function readBodyBytes(c: Context, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const req = nodeOf(c).incoming;
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return refuseBody(c, 0, tooLarge);
  // Listeners, not `for await`: leaving that loop early destroys the request, and with it the socket
  // the 413 has to go out on.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData).off("end", onEnd).off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done();
        chunks.length = 0;
        refuseBody(c, size, tooLarge).catch(reject);
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

/**
 * The headers earlier middleware set through Hono (a cookie, the rate limits), for a response
 * written here; headers that middleware would add after the route returns do not apply to it.
 */
export function headersSoFar(c: Context): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of c.res.headers) if (k !== "set-cookie") out[k] = v;
  const cookies = c.res.headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}

export type EventWriter = {
  /** Sends one event (`event:` when named, then `data:`); a promise, when the client cannot take more yet, of when it can. */
  send(data: string, event?: string): Promise<void> | undefined;
  /** Sends events already framed (`data: …\n\n` each), in one write; answers as `send` does. */
  sendFramed(text: string): Promise<void> | undefined;
  /** The client has gone. */
  readonly aborted: boolean;
};

/**
 * An event stream written straight to Node's response (headers as given), run apart from the
 * request's handler: the handler returns at once, so the middleware chain and Hono's context that
 * wait on it are let go while the stream is open (with a thousand slow streams open they were a
 * fifth of each one's memory). `run` answers for its own errors (it knows what to tell the client);
 * one it lets through cuts the response off, so the client sees a broken stream, not an ended one.
 */
export function eventStream(c: Context, headers: OutgoingHttpHeaders, run: (out: EventWriter) => Promise<void>, onFailure: (err: unknown) => void): Response {
  const res = nodeOf(c).outgoing;
  const out = new NodeEventWriter(res);
  res.writeHead(200, merge(BASE_HEADERS, EVENT_STREAM_HEADERS, headers));
  run(out).then(
    () => out.finish(),
    (err: unknown) => {
      onFailure(err);
      out.finish(true);
    },
  );
  return RESPONSE_ALREADY_SENT;
}

/**
 * The event writer over Node's response. A class rather than an object literal: a literal with a
 * getter before its methods is turned into a dictionary-mode object at every evaluation (V8's
 * "AccessorsOverwritingNonLast"), and a streamed /v1 request made one.
 */
class NodeEventWriter implements EventWriter {
  // A client can leave while its handler still waits (on the model's first event): its "close" has come already.
  private gone: boolean;
  private corked = false;
  private readonly onClose = () => (this.gone = true);
  // Events written in the same turn of the event loop (an upstream read often carries several) go
  // out in one write to the socket, not one each: the socket is corked until the turn's end.
  private readonly uncork = () => {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  };

  constructor(private readonly res: HttpBindings["outgoing"]) {
    this.gone = res.destroyed;
    res.once("close", this.onClose);
  }

  get aborted(): boolean {
    return this.gone;
  }

  send(data: string, event?: string): Promise<void> | undefined {
    return this.sendFramed(event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
  }

  sendFramed(text: string): Promise<void> | undefined {
    if (this.gone || text === "") return undefined;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(this.uncork);
    }
    if (this.res.write(text)) return undefined;
    return Promise.race([once(this.res, "drain"), once(this.res, "close")]).then(() => undefined);
  }

  /** Ends the response, or cuts it off after a failure `run` let through. */
  finish(failed = false): void {
    this.res.off("close", this.onClose);
    // Never left corked: the socket may go on to serve the connection's next request.
    this.uncork();
    if (failed) this.res.destroy();
    else if (!this.gone) this.res.end();
  }
}
