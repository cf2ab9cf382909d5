import { Agent, fetch as undiciFetch } from "undici";
import { privateUrlTarget, publicOnlyLookup } from "./upstream-guard.js";
import { buildChatRequest, readChatStream, upstreamCode, upstreamMessage, type AppIdentity } from "./providers/openai-compatible.js";
import type { Candidate, ChatMessage, RequestParams, StreamEvent } from "./types.js";

export type CallTimeouts = { connectMs: number; firstByteMs: number };

/** One try of one candidate, up to its first event. */
export type CallResult =
  | { ok: true; first: StreamEvent; rest: AsyncGenerator<StreamEvent>; controller: AbortController; release: () => void }
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

/** Why a request to this URL is not sent at all, when its literal host is private and only public targets are allowed. */
export const refusedTarget = (url: string, publicOnly: boolean) => (publicOnly ? privateUrlTarget(url) : undefined);

/** A redirect is never followed: it would carry the provider's key and the conversation to another host. */
export const redirectError = (status: number) => `the provider answered with a redirect (${status}), which Parley does not follow`;

/**
 * Sends the request and waits for the first event of the stream, within the first-byte timeout.
 * Our own timers govern timeouts (undici's header/body timeouts are off), so a hang before the
 * headers and a silence after them are the same "first-byte timeout".
 */
export async function callCandidate(input: {
  candidate: Candidate;
  secret: string | undefined;
  messages: ChatMessage[];
  params: RequestParams;
  app: AppIdentity;
  timeouts: CallTimeouts;
  /** Only public addresses may be reached (admin-configured providers unless ALLOW_PRIVATE_UPSTREAMS). */
  publicOnly: boolean;
  signal: AbortSignal;
}): Promise<CallResult> {
  const { url, headers, body } = buildChatRequest(input.candidate, input.secret, input.messages, input.params, input.app);
  const refused = refusedTarget(url, input.publicOnly);
  if (refused) return { ok: false, error: refused, unreachable: true };
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(input.signal.reason);
  input.signal.addEventListener("abort", onCallerAbort, { once: true });
  const release = () => input.signal.removeEventListener("abort", onCallerAbort);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, input.timeouts.firstByteMs);

  const fail = (status: number | undefined, error: string, unreachable: boolean, retryAfter?: string | null): CallResult => {
    clearTimeout(timer);
    controller.abort();
    release();
    return { ok: false, status, error, unreachable, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  };
  const failed = (err: unknown) =>
    timedOut
      ? fail(undefined, `no answer within ${Math.round(input.timeouts.firstByteMs / 100) / 10} s`, true)
      : fail(undefined, describeFetchError(err), true);

  let res: Awaited<ReturnType<typeof undiciFetch>>;
  try {
    res = await undiciFetch(url, {
      method: "POST",
      headers,
      body,
      signal: controller.signal,
      dispatcher: agentFor(input.timeouts.connectMs, input.publicOnly),
      redirect: "manual",
    });
  } catch (err) {
    return failed(err);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => {});
    return fail(res.status, redirectError(res.status), false);
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    const answer = fail(res.status, upstreamMessage(text) ?? (res.statusText || `HTTP ${res.status}`), false, res.headers.get("retry-after"));
    const code = upstreamCode(text);
    return code && !answer.ok ? { ...answer, code } : answer;
  }

  const rest = readChatStream(res.body as ReadableStream<Uint8Array>);
  let first: IteratorResult<StreamEvent>;
  try {
    first = await rest.next();
  } catch (err) {
    return failed(err);
  }
  if (first.done) return fail(200, "the stream ended before any content", false);
  if (first.value.type === "error") return fail(200, first.value.message, false);
  clearTimeout(timer);
  return { ok: true, first: first.value, rest, controller, release };
}

export function describeFetchError(err: unknown): string {
  let e = err as { cause?: unknown; code?: string; name?: string; message?: string } | undefined;
  for (let x = e, i = 0; i < 4 && x; i++, x = x.cause as typeof x) if (x.code === "EPRIVATETARGET") return x.message ?? "private address";
  // undici nests the socket error: TypeError("fetch failed") → cause (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…)
  for (let i = 0; i < 3 && e; i++) {
    if (e.code) return e.code === "UND_ERR_CONNECT_TIMEOUT" ? "connect timeout" : `connection error (${e.code})`;
    e = e.cause as typeof e;
  }
  if ((err as Error)?.name === "AbortError") return "aborted";
  // fetch's own refusals ("bad port", a malformed URL) say why only in the cause.
  const cause = ((err as { cause?: { message?: string } })?.cause?.message ?? "").trim();
  return cause || ((err as Error)?.message ?? String(err));
}
