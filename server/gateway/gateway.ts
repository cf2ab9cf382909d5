import { GatewayError } from "./errors.js";
import { buildChatRequest, readChatStream, type AppIdentity } from "./providers/openai-compatible.js";
import type { Registry } from "./registry.js";
import { profileFor } from "./task-profiles.js";
import type { Attempt, Candidate, ChatRequest, StreamEvent } from "./types.js";

export type GatewayOptions = {
  registry: Registry;
  app: AppIdentity;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  fetch?: typeof fetch;
};

/** A reply that has begun: a candidate answered with its first event, which `events` replays. */
export type OpenStream = {
  candidate: Candidate;
  attempts: Attempt[];
  events: AsyncGenerator<StreamEvent>;
};

/** Statuses where another attempt cannot help: the request itself, or our credentials, are wrong. */
const NO_FAILOVER = new Set([400, 401, 403, 404, 413, 422]);

const SKIPS_MEANING_UNCONFIGURED = new Set(["missing_secret", "worker_not_configured"]);

export const NO_PROVIDER_MESSAGE =
  "No model provider is configured: set OPENROUTER_API_KEY or start the local chat worker";

/**
 * Framework-free: takes a ChatRequest, returns a stream of events. Fails over between candidates
 * until one has produced its first event; after that the reply is committed to that candidate.
 */
export function createGateway(opts: GatewayOptions) {
  const doFetch = opts.fetch ?? fetch;

  async function openStream(req: ChatRequest): Promise<OpenStream> {
    const candidates = opts.registry.candidates(req.task, req.model);
    const attempts: Attempt[] = [];
    let tried = 0;
    const skips: string[] = [];

    for (const c of candidates) {
      if (req.signal.aborted) throw new GatewayError("aborted", "The request was cancelled", attempts);
      const skip = opts.registry.skipReason(c);
      if (skip) {
        skips.push(skip);
        continue;
      }
      tried++;
      const started = performance.now();
      const attempt: Attempt = { provider: c.provider.name, model: c.model.modelKey, ms: 0 };
      attempts.push(attempt);
      const result = await tryCandidate(c, req);
      attempt.ms = Math.round(performance.now() - started);
      if (result.ok) {
        attempt.status = 200;
        return { candidate: c, attempts, events: result.events };
      }
      attempt.status = result.status;
      attempt.error = result.error;
      if (req.signal.aborted) throw new GatewayError("aborted", "The request was cancelled", attempts);
      if (result.status && NO_FAILOVER.has(result.status)) {
        throw new GatewayError(
          "upstream_rejected",
          `The model provider rejected the request (${result.status}): ${result.error}`,
          attempts,
        );
      }
    }
    if (tried === 0 && skips.every((s) => SKIPS_MEANING_UNCONFIGURED.has(s))) {
      throw new GatewayError("no_provider", NO_PROVIDER_MESSAGE, attempts);
    }
    throw new GatewayError(
      "upstream_unavailable",
      tried === 0
        ? "Every model for this task is switched off"
        : "Every model provider failed to answer; try again in a moment",
      attempts,
    );
  }

  type TryResult = { ok: true; events: AsyncGenerator<StreamEvent> } | { ok: false; status?: number; error: string };

  async function tryCandidate(c: Candidate, req: ChatRequest): Promise<TryResult> {
    const { url, init } = buildChatRequest(c, opts.registry.secretFor(c.provider), req, profileFor(req.task), opts.app);
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(req.signal.reason);
    req.signal.addEventListener("abort", onCallerAbort, { once: true });
    const release = () => req.signal.removeEventListener("abort", onCallerAbort);
    let timedOut = false;
    const firstByteTimer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, opts.firstByteTimeoutMs);

    const fail = (status: number | undefined, error: string): TryResult => {
      clearTimeout(firstByteTimer);
      controller.abort();
      release();
      return { ok: false, status, error };
    };

    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: controller.signal });
    } catch (err) {
      return fail(undefined, timedOut ? "first-byte timeout" : describeFetchError(err));
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => "");
      return fail(res.status, upstreamMessage(text) ?? res.statusText);
    }

    const upstream = readChatStream(res.body);
    let first: IteratorResult<StreamEvent>;
    try {
      first = await upstream.next();
    } catch (err) {
      return fail(undefined, timedOut ? "first-byte timeout" : describeFetchError(err));
    }
    if (first.done) return fail(200, "the stream ended before any content");
    if (first.value.type === "error") return fail(200, first.value.message);
    clearTimeout(firstByteTimer);

    return {
      ok: true,
      events: withIdleTimeout(first.value, upstream, opts.idleTimeoutMs, controller, release),
    };
  }

  return { openStream };
}

export type Gateway = ReturnType<typeof createGateway>;

/**
 * Replays the first event, then passes the rest through; if no chunk arrives for `idleMs`
 * the upstream is cancelled and the stream ends with an error event. Leaving early (the
 * caller went away) cancels the upstream too.
 */
async function* withIdleTimeout(
  first: StreamEvent,
  upstream: AsyncGenerator<StreamEvent>,
  idleMs: number,
  controller: AbortController,
  release: () => void,
): AsyncGenerator<StreamEvent> {
  try {
    yield first;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<"idle">((resolve) => {
        timer = setTimeout(() => resolve("idle"), idleMs);
      });
      const pending = upstream.next();
      const next = await Promise.race([pending, idle]).finally(() => clearTimeout(timer));
      if (next === "idle") {
        pending.catch(() => {}); // it rejects once we abort below
        controller.abort();
        yield { type: "error", message: `The model sent nothing for ${Math.round(idleMs / 1000)} s` };
        return;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    controller.abort();
    release();
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `connection error (${cause.code})`;
  if ((err as Error)?.name === "AbortError") return "aborted";
  return (err as Error)?.message ?? String(err);
}

function upstreamMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    if (typeof parsed.error === "string") return parsed.error;
    return parsed.error?.message ?? parsed.message;
  } catch {
    return body.slice(0, 200) || undefined;
  }
}
