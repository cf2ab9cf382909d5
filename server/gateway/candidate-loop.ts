import type { CircuitBreaker } from "./breaker.js";
import { GatewayError } from "./errors.js";
import { classify, FAILURE_POLICY, type FailedCall, type FailoverAction, type FailureKind } from "./failover.js";
import { balanced } from "./balance.js";
import type { Outcomes } from "./outcomes.js";
import { breakerKeyOf } from "./provider-health.js";
import { adapterFor, type AppIdentity } from "./providers/index.js";
import type { Registry } from "./registry.js";
import { parseRetryAfter, withJitter } from "./retry-after.js";
import { callCandidate, type CallResult } from "./upstream-call.js";
import type { Attempt, Cancellation, Candidate, ChatMessage, ChatRequest, PromptWindow, Provider } from "./types.js";
import { merge } from "../merge.js";

export type LoopOptions = {
  registry: Registry;
  breaker: CircuitBreaker;
  outcomes: Outcomes;
  app: AppIdentity;
  timeouts: { connectMs: number; firstByteMs: number };
  /** The longest Retry-After (seconds) worth waiting for before trying the next candidate. */
  retryAfterMaxS: number;
  allowPrivateUpstreams?: boolean;
  /** A candidate's window, for fitting the prompt to it. */
  windowOf: (c: Candidate, task: string, req: ChatRequest) => PromptWindow;
  log?: { debug(obj: object, msg: string): void };
};

/** A candidate that answered with its first event; the circuit slot it holds is settled when its stream ends. */
export type Opened = Extract<CallResult, { ok: true }> & {
  candidate: Candidate;
  messages: ChatMessage[];
  /** How the stream ended, for the model's circuit: an error counts against it, anything else for it. */
  settle: (ended: "error" | "ok", error?: string) => void;
};

const MAX_RETRY_AFTER_WAITS = 3;

export const NO_PROVIDER_MESSAGE =
  "No model provider is configured: set OPENROUTER_API_KEY or start the local chat worker";

const breakerKey = (c: Candidate) => breakerKeyOf(c.provider.name, c.model.modelKey);

/**
 * Why nothing could be asked when every model of the task lacks its provider's setup. With no
 * provider set up at all, the first-run advice; with one set up that this task does not use (the
 * local worker running, the task's models all on OpenRouter without a key), that, so the admin is
 * not told to start what already runs.
 */
function noProviderFor(registry: Registry, task: string, candidates: Candidate[]): string {
  const servingElsewhere = [...new Set(registry.activeModels().map((c) => c.provider.displayName))];
  if (servingElsewhere.length === 0) return NO_PROVIDER_MESSAGE;
  const missing = [...new Set(candidates.map((c) => c.provider.secretName).filter((n): n is string => !!n))];
  return (
    `No model for the "${task}" task is set up${missing.length ? ` (${missing.join(", ")} not set)` : ""}, while ` +
    `${servingElsewhere.join(" and ")} ${servingElsewhere.length === 1 ? "serves" : "serve"} other tasks: ` +
    `give the task one of its models in the dashboard's Models tab`
  );
}

/** Admin-configured providers reach only public addresses unless allowed; a trusted kind (Parley's own worker) anywhere. */
export const publicOnly = (p: Provider, allowPrivate: boolean | undefined) => !allowPrivate && !adapterFor(p.kind).trusted(p);

/**
 * Tries candidates in order until one starts a stream; throws a GatewayError when none does.
 * Each candidate's circuit slot is taken and given back here, at one place per candidate.
 */
export async function firstAnswer(opts: LoopOptions, req: ChatRequest, task: string, attempts: Attempt[], deadline: number): Promise<Opened> {
  const { registry, breaker, outcomes } = opts;
  const all = balanced(registry.candidates(task, req.model), (c) => adapterFor(c.provider.kind).tieRank);
  const candidates = req.allowModels?.length ? all.filter((c) => req.allowModels!.includes(c.model.modelKey)) : all;
  const skips: string[] = [];
  let tooLong: { budgetTokens: number; neededTokens: number } | undefined;
  // Failed tries: what a model said when the conversation did not fit it, and whether any failed otherwise.
  let overflow: { model: string; error: string } | undefined;
  let otherFailure = false;

  for (const [index, c] of candidates.entries()) {
    // Passed over before anything is asked of it: switched off, no key, down, an open circuit.
    const unusable =
      registry.skipReason(c) ??
      // What the request asks that this one cannot take: the client's tools, images.
      (req.needs?.tools && !adapterFor(c.provider.kind).takesTools ? "no_tools" : undefined) ??
      (req.needs?.images && !c.model.acceptsImages ? "no_images" : undefined) ??
      (outcomes.isLive(c.provider) ? undefined : "worker_unhealthy") ??
      (breaker.state(breakerKey(c)) === "open" ? "circuit_open" : undefined);
    // Each usable candidate gets the prompt that fits its own window (counted by its tokenizer, before
    // the breaker is asked for a slot); one that cannot hold the newest message at all is passed over.
    const fitted = req.fit && !unusable ? await req.fit(opts.windowOf(c, task, req)) : undefined;
    if (fitted && "tooLong" in fitted) {
      if (!tooLong || fitted.tooLong.budgetTokens > tooLong.budgetTokens) tooLong = fitted.tooLong;
      skips.push("prompt_too_long");
      continue;
    }
    const skip = unusable ?? (breaker.tryAcquire(breakerKey(c)) ? undefined : "circuit_open");
    if (skip) {
      skips.push(skip);
      opts.log?.debug({ provider: c.provider.name, model: c.model.modelKey, skip }, "candidate skipped");
      continue;
    }

    // Fitted to this candidate, or as given (a request without a fitter).
    const messages = fitted?.messages ?? req.messages ?? [];
    // The slot is held from here: counted or given back when this block is left, unless a stream took it.
    let slot: "held" | "streaming" | "failure" = "held";
    let failure: { kind: FailureKind; then: FailoverAction; result: FailedCall } | undefined;
    try {
      const tried = await tryCandidate(opts, c, messages, task, req, attempts, deadline, index === candidates.length - 1);
      if (tried.ok) {
        slot = "streaming";
        const key = breakerKey(c);
        const settle = (ended: "error" | "ok", error?: string) => (ended === "error" ? breaker.failure(key, error) : breaker.success(key));
        return merge(tried, { candidate: c, messages, settle });
      }
      failure = tried;
      if (tried.kind === "context_too_long") overflow = { model: c.model.modelKey, error: tried.result.error };
      else otherFailure = true;
      if (FAILURE_POLICY[tried.kind].breaker === "failure") slot = "failure";
    } finally {
      if (slot === "failure") breaker.failure(breakerKey(c), failure?.result.error);
      else if (slot === "held") breaker.release(breakerKey(c));
    }
    if (failure.then === "stop") throw rejected(c, failure.result.status ?? 400, failure.result.error, attempts);
  }

  if (attempts.length === 0 && tooLong && skips.every((s) => s === "prompt_too_long" || s === "missing_secret" || s === "worker_not_configured")) {
    throw new GatewayError(
      "prompt_too_long",
      `The newest message is too long for the models that could answer it: it needs about ${tooLong.neededTokens} tokens with the scenario's instructions, and at most ${tooLong.budgetTokens} fit. It is saved; shorten it and send it again`,
      attempts,
    );
  }
  // Every model asked said the conversation does not fit it (its window is smaller than we counted, or
  // unknown): that is the answer, not an outage to try again after.
  if (overflow && !otherFailure) {
    throw new GatewayError("prompt_too_long", `The conversation is too long for the models that could answer it (${overflow.model}: ${overflow.error})`, attempts);
  }
  if (attempts.length === 0 && skips.length > 0 && skips.every((s) => s === "no_tools" || s === "no_images")) {
    throw new GatewayError(
      "no_provider",
      skips.includes("no_images")
        ? "No model for this task accepts images: mark one that does in the dashboard's Models tab (Accepts images)"
        : "No model for this task takes tools (Parley's local worker does not)",
      attempts,
    );
  }
  if (attempts.length === 0 && skips.every((s) => s === "missing_secret" || s === "worker_not_configured")) {
    throw new GatewayError("no_provider", noProviderFor(registry, task, candidates), attempts);
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

/** One candidate, tried again while its 429s say when (and that is soon enough), until it answers or fails for good. */
async function tryCandidate(
  opts: LoopOptions,
  c: Candidate,
  messages: ChatMessage[],
  task: string,
  req: ChatRequest,
  attempts: Attempt[],
  deadline: number,
  isLast: boolean,
): Promise<Extract<CallResult, { ok: true }> | { ok: false; kind: FailureKind; then: FailoverAction; result: FailedCall }> {
  const cancelled = () => new GatewayError("aborted", "The request was cancelled", attempts);
  for (let waits = 0; ; waits++) {
    if (req.signal.aborted) throw cancelled();
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new GatewayError("upstream_unavailable", "No model answered within the request's time budget", attempts);
    const attemptStarted = performance.now();
    const attempt: Attempt = { provider: c.provider.name, model: c.model.modelKey, ms: 0 };
    attempts.push(attempt);
    const result = await callCandidate({
      candidate: c,
      secret: opts.registry.secretFor(c.provider),
      // The client's own messages (parts, tool calls) go as they are when nothing was fitted to this model.
      messages: req.rawMessages && !req.fit ? req.rawMessages : messages,
      params: opts.registry.paramsFor(c, task, req.params),
      app: opts.app,
      timeouts: {
        connectMs: c.provider.connectTimeoutMs ?? opts.timeouts.connectMs,
        firstByteMs: Math.min(c.provider.firstByteTimeoutMs ?? opts.timeouts.firstByteMs, remaining),
      },
      publicOnly: publicOnly(c.provider, opts.allowPrivateUpstreams),
      signal: req.signal,
    });
    attempt.ms = Math.round(performance.now() - attemptStarted);
    if (result.ok) {
      attempt.status = 200;
      opts.outcomes.answered(c, attempt.ms);
      return result;
    }
    attempt.status = result.status;
    attempt.error = result.error;
    if (req.signal.aborted) throw cancelled();

    const kind = classify(result, isLast);
    // The provider's own rule for this status, else the default for its kind.
    const then = (result.status !== undefined ? c.provider.failoverRules[String(result.status)] : undefined) ?? FAILURE_POLICY[kind].then;
    if (then === "retry_after") {
      const seconds = parseRetryAfter(result.retryAfter);
      const waitMs = seconds === undefined ? undefined : withJitter(seconds);
      if (waitMs !== undefined && seconds! <= opts.retryAfterMaxS && waits < MAX_RETRY_AFTER_WAITS && performance.now() + waitMs < deadline) {
        attempt.error = `${result.error} (retrying after ${waitMs} ms)`;
        if (!(await waitUnlessCancelled(waitMs, req.signal))) throw cancelled();
        continue;
      }
    }
    opts.outcomes.failed(c, kind, result.error);
    return { ok: false, kind, then, result };
  }
}

/** Waits `ms`; false when the caller went away first. */
function waitUnlessCancelled(ms: number, signal: Cancellation): Promise<boolean> {
  return new Promise((resolve) => {
    const gone = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", gone);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", gone, { once: true });
  });
}

function rejected(c: Candidate, status: number, error: string, attempts: Attempt[]): GatewayError {
  const credentials = status === 401 || status === 403 ? `; check the key in ${c.provider.secretName ?? "the provider's secret"}` : "";
  return new GatewayError(
    "upstream_rejected",
    `${c.provider.displayName} rejected the request (${status}): ${error}${credentials}`,
    attempts,
    status === 401 || status === 403 ? 502 : status,
  );
}
