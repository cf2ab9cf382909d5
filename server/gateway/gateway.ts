import { setTimeout as sleep } from "node:timers/promises";
import type { CircuitBreaker } from "./breaker.js";
import { GatewayError } from "./errors.js";
import type { AppIdentity } from "./providers/openai-compatible.js";
import { breakerKeyOf, providerHealth } from "./provider-health.js";
import { listUpstreamModels, probeCandidate, type ProbeResult } from "./provider-probe.js";
import type { ProviderStatus } from "./provider-status.js";
import { defaultTokenizer } from "../../contracts/tokenizers.js";
import { SEEDED_WORKER, UNKNOWN_CONTEXT_TOKENS, type Registry } from "./registry.js";
import { TokenCounter } from "./token-counter.js";
import { parseRetryAfter, withJitter } from "./retry-after.js";
import { callCandidate } from "./upstream-call.js";
import { costOf, countTokens } from "./usage.js";
import type { WorkerHealth } from "./worker-health.js";
import type { Attempt, Candidate, ChatMessage, ChatRequest, PromptWindow, RequestRecord, StreamEvent, Usage } from "./types.js";
import { errorFields } from "../error-report.js";

export type GatewayTimeouts = {
  /** Defaults for providers that set none of their own. */
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  /** The whole request, retries and stream included. */
  requestMs: number;
};

export type GatewayOptions = {
  registry: Registry;
  breaker: CircuitBreaker;
  providerStatus: ProviderStatus;
  workerHealth: WorkerHealth;
  app: AppIdentity;
  timeouts: GatewayTimeouts;
  /** The longest Retry-After (seconds) worth waiting for before trying the next candidate. */
  retryAfterMaxS: number;
  /** Admin-configured providers may reach private and loopback addresses (Parley's own worker always may). */
  allowPrivateUpstreams?: boolean;
  /** Receives one record per request when it ends; the request log writes it off the hot path. */
  onRecord: (record: RequestRecord) => void;
  log?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /** Counts prompt tokens per model family; one per process, so each tokenizer is loaded once. */
  tokenCounter?: TokenCounter;
};

/** A reply that has begun: a candidate answered with its first event, which `events` replays. */
export type OpenStream = {
  candidate: Candidate;
  /** How many messages the prompt sent to that candidate held (its fitted prompt, system message included). */
  promptMessages: number;
  attempts: Attempt[];
  events: AsyncGenerator<StreamEvent>;
  /** Resolves when the stream has ended, however it ended, with what was recorded. */
  record: Promise<RequestRecord>;
};

/** Statuses where another attempt cannot help: the request itself, or our credentials, are wrong. */
const NO_FAILOVER = new Set([400, 401, 403, 404, 413, 422]);
const MAX_RETRY_AFTER_WAITS = 3;

export const NO_PROVIDER_MESSAGE =
  "No model provider is configured: set OPENROUTER_API_KEY or start the local chat worker";

const breakerKey = (c: Candidate) => breakerKeyOf(c.provider.name, c.model.modelKey);

/**
 * Framework-free: takes a ChatRequest, returns a stream of events. Fails over between candidates
 * until one has produced its first event; after that the reply is committed to that candidate.
 */
export function createGateway(opts: GatewayOptions) {
  const { registry, breaker, providerStatus, workerHealth } = opts;

  async function openStream(req: ChatRequest): Promise<OpenStream> {
    const started = performance.now();
    const deadline = started + opts.timeouts.requestMs;
    const task = (req.model && registry.findModel(req.model)?.task) || req.task;
    const attempts: Attempt[] = [];
    const base = { at: new Date(), clientId: req.meta?.clientId, sessionId: req.meta?.sessionId, task, requestedModel: req.model };

    try {
      const opened = await route(req, task, attempts, deadline);
      // What this candidate was sent, for the estimate when it reports no usage.
      const promptChars = opened.messages.reduce((n, m) => n + m.content.length, 0);
      return {
        candidate: opened.candidate,
        promptMessages: opened.messages.length,
        attempts,
        ...meter(opened, req, { ...base, attempts }, started, deadline, promptChars),
      };
    } catch (err) {
      const e =
        err instanceof GatewayError
          ? err
          : new GatewayError("upstream_unavailable", "The gateway failed before the reply began", attempts);
      opts.onRecord({
        ...base,
        status: e.code === "aborted" ? "aborted" : e.code,
        attempts,
        totalMs: Math.round(performance.now() - started),
        text: "",
        promptTokens: 0,
        completionTokens: 0,
        tokensEstimated: false,
        cost: null,
        error: e.message,
      });
      throw e;
    }
  }

  const tokens = opts.tokenCounter ?? new TokenCounter();

  /** A candidate's window, and the tokenizer its prompt is counted with. */
  function windowOf(c: Candidate, task: string, req: ChatRequest): PromptWindow {
    const tokenizer = c.model.tokenizer ?? defaultTokenizer(c.model.modelKey, c.provider.kind);
    return {
      contextLength: c.model.contextLength ?? UNKNOWN_CONTEXT_TOKENS,
      maxTokens: registry.paramsFor(c, task, req.params).max_tokens,
      tokenizer,
      count: (texts) => tokens.count(tokenizer, texts, c.provider.baseUrl),
    };
  }

  type Opened = Extract<Awaited<ReturnType<typeof callCandidate>>, { ok: true }> & { candidate: Candidate; messages: ChatMessage[] };

  /** Tries candidates in order until one starts a stream; throws a GatewayError when none does. */
  async function route(req: ChatRequest, task: string, attempts: Attempt[], deadline: number): Promise<Opened> {
    const candidates = registry.candidates(task, req.model);
    const skips: string[] = [];
    const cancelled = () => new GatewayError("aborted", "The request was cancelled", attempts);
    let tooLong: { budgetTokens: number; neededTokens: number } | undefined;

    for (const [index, c] of candidates.entries()) {
      // Passed over before anything is asked of it: switched off, no key, an unhealthy worker, an open circuit.
      const unusable =
        registry.skipReason(c) ??
        (c.provider.kind === "chat_worker" && !workerHealth.isUsable(c.provider.name) ? "worker_unhealthy" : undefined) ??
        (breaker.state(breakerKey(c)) === "open" ? "circuit_open" : undefined);
      // Each usable candidate gets the prompt that fits its own window (counted by its tokenizer, before
      // the breaker is asked for a slot); one that cannot hold the newest message at all is passed over.
      const fitted = req.fit && !unusable ? await req.fit(windowOf(c, task, req)) : undefined;
      if (fitted && "tooLong" in fitted) {
        if (!tooLong || fitted.tooLong.budgetTokens > tooLong.budgetTokens) tooLong = fitted.tooLong;
        skips.push("prompt_too_long");
        continue;
      }
      const messages = fitted?.messages ?? req.messages;
      const skip = unusable ?? (breaker.tryAcquire(breakerKey(c)) ? undefined : "circuit_open");
      if (skip) {
        skips.push(skip);
        opts.log?.debug({ provider: c.provider.name, model: c.model.modelKey, skip }, "candidate skipped");
        continue;
      }

      for (let waits = 0; ; waits++) {
        if (req.signal.aborted) {
          breaker.release(breakerKey(c));
          throw cancelled();
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          breaker.release(breakerKey(c));
          throw new GatewayError("upstream_unavailable", "No model answered within the request's time budget", attempts);
        }
        const attemptStarted = performance.now();
        const attempt: Attempt = { provider: c.provider.name, model: c.model.modelKey, ms: 0 };
        attempts.push(attempt);
        const result = await callCandidate({
          candidate: c,
          secret: registry.secretFor(c.provider),
          messages,
          params: registry.paramsFor(c, task, req.params),
          app: opts.app,
          timeouts: {
            connectMs: c.provider.connectTimeoutMs ?? opts.timeouts.connectMs,
            firstByteMs: Math.min(c.provider.firstByteTimeoutMs ?? opts.timeouts.firstByteMs, remaining),
          },
          publicOnly: publicOnly(c.provider),
          signal: req.signal,
        });
        attempt.ms = Math.round(performance.now() - attemptStarted);
        if (result.ok) {
          attempt.status = 200;
          if (c.provider.kind === "chat_worker") workerHealth.report(c.provider.name, true, attempt.ms);
          providerStatus.ok(c.provider.name, c.model.modelKey);
          return { ...result, candidate: c, messages };
        }
        attempt.status = result.status;
        attempt.error = result.error;
        if (req.signal.aborted) {
          breaker.release(breakerKey(c));
          throw cancelled();
        }

        if (result.status === 429) {
          const seconds = parseRetryAfter(result.retryAfter);
          const waitMs = seconds === undefined ? undefined : withJitter(seconds);
          if (
            waitMs !== undefined &&
            seconds! <= opts.retryAfterMaxS &&
            waits < MAX_RETRY_AFTER_WAITS &&
            performance.now() + waitMs < deadline
          ) {
            attempt.error = `${result.error} (retrying after ${waitMs} ms)`;
            try {
              await sleep(waitMs, undefined, { signal: req.signal });
            } catch {
              breaker.release(breakerKey(c));
              throw cancelled();
            }
            continue;
          }
        }
        if (result.status === 402) providerStatus.mark(c.provider.name, "payment_required", c.model.modelKey, result.error);
        if (result.status === 401 || result.status === 403) {
          providerStatus.mark(c.provider.name, "misconfigured", c.model.modelKey, result.error);
        }
        // A conversation too long for this model (a small local context, typically) may fit the next one.
        if (result.status === 400 && result.code === "context_length_exceeded" && index < candidates.length - 1) {
          breaker.release(breakerKey(c));
          break;
        }
        if (result.status !== undefined && NO_FAILOVER.has(result.status)) {
          breaker.release(breakerKey(c));
          throw rejected(c, result.status, result.error, attempts);
        }
        breaker.failure(breakerKey(c), result.error);
        if (c.provider.kind === "chat_worker" && (result.unreachable || (result.status ?? 0) >= 500)) {
          workerHealth.report(c.provider.name, false, null, result.error);
        }
        break; // the next candidate, at once
      }
    }

    if (attempts.length === 0 && tooLong && skips.every((s) => s === "prompt_too_long" || s === "missing_secret" || s === "worker_not_configured")) {
      throw new GatewayError(
        "prompt_too_long",
        `The newest message is too long for the models that could answer it: it needs about ${tooLong.neededTokens} tokens with the scenario's instructions, and at most ${tooLong.budgetTokens} fit. It is saved; shorten it and send it again`,
        attempts,
      );
    }
    if (attempts.length === 0 && skips.every((s) => s === "missing_secret" || s === "worker_not_configured")) {
      throw new GatewayError("no_provider", NO_PROVIDER_MESSAGE, attempts);
    }
    throw new GatewayError(
      "upstream_unavailable",
      attempts.length === 0
        ? candidates.length === 0
          ? `No model serves the task "${task}"`
          : "Every model for this task is switched off or cooling down after failures; try again in a moment"
        : "Every model provider failed to answer; try again in a moment",
      attempts,
    );
  }

  function rejected(c: Candidate, status: number, error: string, attempts: Attempt[]): GatewayError {
    const credentials =
      status === 401 || status === 403
        ? `; check the key in ${c.provider.secretName ?? "the provider's secret"}`
        : "";
    return new GatewayError(
      "upstream_rejected",
      `${c.provider.displayName} rejected the request (${status}): ${error}${credentials}`,
      attempts,
      status === 401 || status === 403 ? 502 : status,
    );
  }

  /**
   * Passes the stream on while keeping account of it: text, usage, time to first token, how it
   * ended. Ends the stream with an error event on idle or when the request's budget runs out,
   * and records the request once, however the stream ends (the consumer leaving included).
   */
  function meter(
    opened: Opened,
    req: ChatRequest,
    base: Omit<RequestRecord, "status" | "totalMs" | "text" | "promptTokens" | "completionTokens" | "tokensEstimated" | "cost">,
    started: number,
    deadline: number,
    promptChars: number,
  ): Pick<OpenStream, "events" | "record"> {
    const c = opened.candidate;
    const idleMs = c.provider.idleTimeoutMs ?? opts.timeouts.idleMs;
    let resolveRecord!: (r: RequestRecord) => void;
    const record = new Promise<RequestRecord>((resolve) => (resolveRecord = resolve));

    async function* events(): AsyncGenerator<StreamEvent> {
      let text = "";
      let ttftMs: number | undefined;
      let usage: Usage | undefined;
      let finish: string | undefined;
      let error: string | undefined;
      let ended = false;
      const observe = (ev: StreamEvent) => {
        if (ev.type === "delta") {
          ttftMs ??= Math.round(performance.now() - started);
          text += ev.text;
        } else if (ev.type === "usage") usage = ev.usage;
        else if (ev.type === "finish") finish = ev.reason;
        else if (ev.type === "error") {
          finish = "error";
          error = ev.message;
        }
      };
      // Two timers for the whole stream, re-armed rather than made anew per event: the idle one
      // counts only while an event is awaited (a slow reader downstream is not a silent model).
      let expired: "idle" | "budget" | undefined;
      let waiting = false;
      const expire = (why: "idle" | "budget") => {
        if (!waiting || expired) return;
        expired = why;
        opened.cancel();
      };
      const idleTimer = setTimeout(() => expire("idle"), idleMs);
      const budgetTimer = setTimeout(() => expire("budget"), Math.max(0, deadline - performance.now()));
      try {
        observe(opened.first);
        yield opened.first;
        // The first event is never an error: callCandidate counts that as a failed attempt.
        for (;;) {
          if (performance.now() >= deadline) expired = "budget";
          let next: IteratorResult<StreamEvent> | undefined;
          if (!expired) {
            waiting = true;
            idleTimer.refresh();
            try {
              next = await opened.rest.next();
            } catch (err) {
              if (!expired) throw err; // it fails once cancelled
            } finally {
              waiting = false;
            }
          }
          if (expired || !next) {
            const ev: StreamEvent = {
              type: "error",
              message:
                expired === "budget"
                  ? `The reply took longer than the request's ${Math.round(opts.timeouts.requestMs / 1000)} s budget`
                  : `The model sent nothing for ${Math.round(idleMs / 1000)} s`,
            };
            observe(ev);
            yield ev;
            break;
          }
          if (next.done) break;
          observe(next.value);
          yield next.value;
          if (next.value.type === "error") break;
        }
        ended = true;
      } catch (err) {
        ended = true;
        if (!req.signal.aborted) {
          finish = "error";
          error = "The connection to the model was lost mid-reply";
          opts.log?.warn({ provider: c.provider.name, ...errorFields(err) }, "upstream stream failed");
          // A worker that died mid-reply is skipped by the next request, before the next probe.
          if (c.provider.kind === "chat_worker") workerHealth.report(c.provider.name, false, null, error);
          const ev: StreamEvent = { type: "error", message: error };
          yield ev;
        }
      } finally {
        clearTimeout(idleTimer);
        clearTimeout(budgetTimer);
        // A stream read to its end gave its connection back; one left early (a timeout, the reader gone) is dropped.
        if (!ended || expired) {
          opened.cancel();
          void opened.rest.return(undefined).catch(() => {});
        }
        opened.release();
        const aborted = !ended || req.signal.aborted;
        if (aborted) finish = "aborted";
        if (finish === "error") breaker.failure(breakerKey(c), error);
        else breaker.success(breakerKey(c));
        const tokens = countTokens(usage, promptChars, text.length);
        const rec: RequestRecord = {
          ...base,
          provider: c.provider.name,
          model: c.model.modelKey,
          status: aborted ? "aborted" : finish === "error" ? "error" : "ok",
          ttftMs,
          totalMs: Math.round(performance.now() - started),
          text,
          finishReason: finish ?? "stop",
          ...tokens,
          cost: costOf(usage, c.model, tokens.promptTokens, tokens.completionTokens),
          error,
        };
        opts.onRecord(rec);
        resolveRecord(rec);
      }
    }
    return { events: events(), record };
  }

  /** The whole reply at once, for callers that do not stream (the `/v1` API with `stream: false`, enhance). */
  async function complete(req: ChatRequest): Promise<{ candidate: Candidate; attempts: Attempt[]; record: RequestRecord }> {
    const open = await openStream(req);
    for await (const _ of open.events) {
      // drained: the meter accumulates the text
    }
    return { candidate: open.candidate, attempts: open.attempts, record: await open.record };
  }

  /** Parley's own worker (the seeded row, whose address comes from Parley's settings) is reached wherever it runs; other providers only on public addresses unless allowed. */
  function publicOnly(p: Candidate["provider"]): boolean {
    return !opts.allowPrivateUpstreams && p.name !== SEEDED_WORKER;
  }

  /**
   * A one-token request to one of a provider's models (its first in routing order when none is
   * named), for the admin's "Test" button. Its answer updates what admins are shown about the
   * provider, as a routed request's would, but never opens a circuit.
   */
  async function probe(providerId: string, modelId?: string): Promise<ProbeResult | undefined> {
    const provider = registry.provider(providerId);
    const model = registry.modelsOf(providerId).find((m) => (modelId ? m.id === modelId : true));
    if (!provider || !model) return undefined;
    const result = await probeCandidate({ provider, model }, registry.secretFor(provider), opts.app, {
      connectMs: provider.connectTimeoutMs ?? opts.timeouts.connectMs,
      firstByteMs: provider.firstByteTimeoutMs ?? opts.timeouts.firstByteMs,
    }, publicOnly(provider));
    if (result.ok) {
      providerStatus.ok(provider.name, model.modelKey);
      if (provider.kind === "chat_worker") workerHealth.report(provider.name, true, result.latencyMs);
    } else if (result.status === 402) providerStatus.mark(provider.name, "payment_required", model.modelKey, result.error);
    else if (result.status === 401 || result.status === 403) providerStatus.mark(provider.name, "misconfigured", model.modelKey, result.error);
    return result;
  }

  /** What a provider's `/models` offers; throws with a readable reason when it cannot be listed. */
  function upstreamModels(providerId: string) {
    const provider = registry.provider(providerId);
    if (!provider) return undefined;
    return listUpstreamModels(provider, registry.secretFor(provider), opts.app, Math.min(opts.timeouts.firstByteMs, 15_000), publicOnly(provider));
  }

  /**
   * The largest context window among the models a request could go to now (switched on, with
   * their key): the chat reads no more history than that could hold.
   */
  function largestContext(task: string, model?: string): number {
    const windows = registry
      .candidates(task, model)
      .filter((c) => registry.skipReason(c) === undefined)
      .map((c) => c.model.contextLength ?? UNKNOWN_CONTEXT_TOKENS);
    return windows.length === 0 ? UNKNOWN_CONTEXT_TOKENS : Math.max(...windows);
  }

  /** Loads the tokenizers of the models that can serve now, so no request waits on a vocabulary being read. */
  function warmTokenizers(): Promise<void> {
    const usable = registry.tasks().flatMap((t) => registry.candidates(t).filter((c) => registry.skipReason(c) === undefined));
    return tokens.warm(usable.map((c) => c.model.tokenizer ?? defaultTokenizer(c.model.modelKey, c.provider.kind)));
  }

  return {
    openStream,
    complete,
    largestContext,
    warmTokenizers,
    probe,
    upstreamModels,
    providerHealth: (providerId: string) => {
      const p = registry.provider(providerId);
      return p ? providerHealth({ registry, breaker, providerStatus, workerHealth }, p) : undefined;
    },
    status: () => ({ circuits: breaker.snapshot(), providers: providerStatus.snapshot(), workers: workerHealth.snapshot() }),
  };
}

export type Gateway = ReturnType<typeof createGateway>;
