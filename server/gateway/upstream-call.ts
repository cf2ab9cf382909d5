import { EventEmitter } from "node:events";
import { Agent, type Dispatcher } from "undici";
import { privateUrlTarget, publicOnlyLookup } from "./upstream-guard.js";
import { releaseBody } from "./body-pool.js";
import { buildChatRequest, readChatStream, upstreamCode, upstreamMessage } from "./providers/openai-compatible.js";
import type { AppIdentity } from "./providers/index.js";
import type { Cancellation, Candidate, ChatMessage, RequestParams, StreamEvent } from "./types.js";
import { merge } from "../merge.js";

export type CallTimeouts = { connectMs: number; firstByteMs: number };

/** One try of one candidate, up to its first events. */
export type CallResult =
  | {
      ok: true;
      /** The first batch of events (never empty; its first is never an error). */
      first: StreamEvent[];
      rest: AsyncGenerator<StreamEvent[]>;
      /** Drops the upstream connection (a timeout, the caller leaving); a stream read to its end needs none. */
      cancel: () => void;
      release: () => void;
    }
  | {
      ok: false;
      /** The upstream's HTTP status; undefined when there was no answer at all. */
      status?: number;
      /** Set on a 429 that said when to come back (seconds). */
      retryAfter?: string | null;
      error: string;
      /** The error code in the upstream's body, when it gave one. */
      code?: string;
      /** The connection failed or timed out: nothing of the provider answered. */
      unreachable: boolean;
    };

/**
 * One connection pool per connect timeout (undici sets that timeout on the dispatcher), and per
 * network rule: a pool for public-only targets resolves names through a lookup that refuses
 * private addresses.
 */
const agents = new Map<string, Agent>();
export function agentFor(connectMs: number, publicOnly: boolean): Agent {
  const key = `${connectMs}:${publicOnly}`;
  let a = agents.get(key);
  if (!a) {
    const connect = publicOnly ? { timeout: connectMs, lookup: publicOnlyLookup } : { timeout: connectMs };
    agents.set(key, (a = new Agent({ connect, headersTimeout: 0, bodyTimeout: 0 })));
  }
  return a;
}

/**
 * A URL's origin and path, as the dispatcher takes them: undici's top-level `request(url, opts)`
 * parses the URL and spreads the options into a new object on every call (a spread with properties
 * after it makes a new V8 shape each time). A process sees a handful of provider URLs.
 */
const targets = new Map<string, { origin: string; path: string }>();
function targetOf(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    if (targets.size >= 256) targets.clear();
    targets.set(url, (t = { origin: u.origin, path: `${u.pathname}${u.search}` }));
  }
  return t;
}

/** Why a request to this URL is not sent at all, when its literal host is private and only public targets are allowed. */
export const refusedTarget = (url: string, publicOnly: boolean) => (publicOnly ? privateUrlTarget(url) : undefined);

/** A redirect is never followed: it would carry the provider's key and the conversation to another host. */
export const redirectError = (status: number) => `the provider answered with a redirect (${status}), which Parley does not follow`;

/**
 * Sends the request and waits for the first event of the stream, within the first-byte timeout.
 * Our own timers govern timeouts (undici's header/body timeouts are off), so a hang before the
 * headers and a silence after them are the same "first-byte timeout".
 *
 * undici's `request` rather than `fetch`: the body is a Node stream read as it comes, with none of
 * fetch's WHATWG Request/Response/stream machinery, which cost more than everything else a routed
 * request does. Cancelling goes through an EventEmitter, not an AbortController: a request that
 * ends normally pays for no abort.
 */
export async function callCandidate(input: {
  candidate: Candidate;
  secret: string | undefined;
  messages: readonly ChatMessage[] | readonly unknown[];
  params: RequestParams;
  app: AppIdentity;
  timeouts: CallTimeouts;
  /** Only public addresses may be reached (admin-configured providers unless ALLOW_PRIVATE_UPSTREAMS). */
  publicOnly: boolean;
  signal: Cancellation;
}): Promise<CallResult> {
  const { url, headers, body } = await buildChatRequest(input.candidate, input.secret, input.messages, input.params, input.app);
  const refused = refusedTarget(url, input.publicOnly);
  if (refused) return { ok: false, error: refused, unreachable: true };
  if (input.signal.aborted) return { ok: false, error: "aborted", unreachable: true };
  const abort = new EventEmitter();
  let res: Dispatcher.ResponseData | undefined;
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    if (res) res.body.destroy();
    else abort.emit("abort");
  };
  input.signal.addEventListener("abort", cancel, { once: true });
  const release = () => input.signal.removeEventListener("abort", cancel);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cancel();
  }, input.timeouts.firstByteMs);

  const fail = (status: number | undefined, error: string, unreachable: boolean, retryAfter?: string | null): CallResult => {
    clearTimeout(timer);
    cancel();
    release();
    return { ok: false, status, error, unreachable, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  };
  const failed = (err: unknown) =>
    timedOut
      ? fail(undefined, `no answer within ${Math.round(input.timeouts.firstByteMs / 100) / 10} s`, true)
      : fail(undefined, describeFetchError(err), true);

  try {
    const { origin, path } = targetOf(url);
    res = await agentFor(input.timeouts.connectMs, input.publicOnly).request({ origin, path, method: "POST", headers, body, signal: abort });
  } catch (err) {
    return failed(err);
  }
  // undici's body emits an error when destroyed early (RequestAbortedError): that is our own doing,
  // and with no listener it would be an uncaught exception. Readers see failures through their iterator.
  res.body.on("error", ignore);
  if (cancelled) return failed(new Error("aborted"));
  const status = res.statusCode;
  if (status >= 300 && status < 400) return fail(status, redirectError(status), false);
  if (status < 200 || status >= 300) {
    const text = await res.body.text().catch(() => "");
    const retryAfter = res.headers["retry-after"];
    const answer = fail(status, upstreamMessage(text) ?? `HTTP ${status}`, false, Array.isArray(retryAfter) ? retryAfter[0] : (retryAfter ?? null));
    const code = upstreamCode(text);
    return code && !answer.ok ? merge(answer, { code }) : answer;
  }

  const rest = readChatStream(res.body);
  let first: IteratorResult<StreamEvent[]>;
  try {
    first = await rest.next();
  } catch (err) {
    return failed(err);
  }
  if (first.done) return fail(200, "the stream ended before any content", false);
  const head = first.value[0]!;
  if (head.type === "error") return fail(200, head.message, false);
  clearTimeout(timer);
  // The request's body goes back (once: releaseBody sees to that) when the answer has been read; a
  // failed call leaves it to the collector, since a socket torn down mid-write may still be reading it.
  const releaseAnswered = () => {
    release();
    releaseBody(body);
  };
  return { ok: true, first: first.value, rest, cancel, release: releaseAnswered };
}

const ignore = () => {};

export function describeFetchError(err: unknown): string {
  let e = err as { cause?: unknown; code?: string; name?: string; message?: string } | undefined;
  for (let x = e, i = 0; i < 4 && x; i++, x = x.cause as typeof x) if (x.code === "EPRIVATETARGET") return x.message ?? "private address";
  // undici nests the socket error: TypeError("fetch failed") → cause (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…)
  for (let i = 0; i < 3 && e; i++) {
    if (e.code) return e.code === "UND_ERR_CONNECT_TIMEOUT" ? "connect timeout" : `connection error (${e.code})`;
    e = e.cause as typeof e;
  }
  if ((err as Error)?.name === "AbortError" || (err as { code?: string })?.code === "UND_ERR_ABORTED") return "aborted";
  // fetch's own refusals ("bad port", a malformed URL) say why only in the cause.
  const cause = ((err as { cause?: { message?: string } })?.cause?.message ?? "").trim();
  return cause || ((err as Error)?.message ?? String(err));
}
