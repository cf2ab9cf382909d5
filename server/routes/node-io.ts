import { once } from "node:events";
import type { OutgoingHttpHeaders } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { Cancellation } from "../gateway/types.js";

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

/** A JSON answer written straight to Node's response, with the headers given. */
export function writeJson(c: Context, status: number, headers: Record<string, string>, body: unknown): Response {
  const json = JSON.stringify(body);
  nodeOf(c).outgoing.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(json),
  });
  nodeOf(c).outgoing.end(json);
  return RESPONSE_ALREADY_SENT;
}

/**
 * Cancelled when the client's connection closes before its answer was written: what the gateway
 * needs of a /v1 caller, without the AbortController and signal that `c.req.raw.signal` makes for it.
 */
export function clientGone(c: Context): Cancellation {
  const res = nodeOf(c).outgoing;
  // Made after the client may have left (the body read, the key admitted): its "close" has come already.
  const state: { aborted: boolean; listeners: (() => void)[] | undefined } = { aborted: res.destroyed, listeners: undefined };
  // Neither the listener nor the object returned holds `res` in its closure (the listener finds it
  // as `this`). With `res` captured there, a request's objects outlived two scavenges and went to
  // the old generation: 5.5 % of what a bare upstream call through /v1 allocates, against 1.2 %
  // without, and 16 % of a whole /v1 request against 12 % (--trace-gc-nvp, c=10). Why V8 kept them
  // is not understood; the measurement is what this shape rests on.
  res.once("close", function (this: typeof res) {
    if (this.writableFinished) return;
    state.aborted = true;
    for (const l of state.listeners?.splice(0) ?? []) l();
  });
  return {
    get aborted() {
      return state.aborted;
    },
    addEventListener(_type, listener) {
      (state.listeners ??= []).push(listener);
    },
    removeEventListener(_type, listener) {
      const i = state.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) state.listeners!.splice(i, 1);
    },
  };
}

/** The body as text, refused with `tooLarge()` past `maxBytes` (declared or read). */
export async function readBodyText(c: Context, maxBytes: number, tooLarge: () => Error): Promise<string> {
  return (await readBodyBytes(c, maxBytes, tooLarge)).toString("utf8");
}

/** The body's bytes, refused with `tooLarge()` past `maxBytes` (declared or read). */
export async function readBodyBytes(c: Context, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const req = nodeOf(c).incoming;
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) throw tooLarge();
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
        req.pause();
        reject(tooLarge());
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
  // A client can leave while its handler still waits (on the model's first event): its "close" has come already.
  let aborted = res.destroyed;
  const gone = () => (aborted = true);
  res.once("close", gone);
  res.writeHead(200, { ...BASE_HEADERS, "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no", ...headers });
  // Events written in the same turn of the event loop (an upstream read often carries several) go
  // out in one write to the socket, not one each: the socket is corked until the turn's end.
  let corked = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };
  const out: EventWriter = {
    get aborted() {
      return aborted;
    },
    send(data, event) {
      return out.sendFramed(event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
    },
    sendFramed(text) {
      if (aborted || text === "") return undefined;
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      if (res.write(text)) return undefined;
      return Promise.race([once(res, "drain"), once(res, "close")]).then(() => undefined);
    },
  };
  const finish = (failure?: { err: unknown }) => {
    res.off("close", gone);
    // Never left corked: the socket may go on to serve the connection's next request.
    uncork();
    if (failure) {
      onFailure(failure.err);
      res.destroy();
    } else if (!aborted) res.end();
  };
  run(out).then(
    () => finish(),
    (err: unknown) => finish({ err }),
  );
  return RESPONSE_ALREADY_SENT;
}
