import { createAdminOperations } from "./admin-operations.js";
import type { CircuitBreaker } from "./breaker.js";
import { firstAnswer } from "./candidate-loop.js";
import { GatewayError } from "./errors.js";
import { createOutcomes } from "./outcomes.js";
import type { ProviderStatus } from "./provider-status.js";
import type { AppIdentity } from "./providers/index.js";
import { defaultTokenizer } from "../../contracts/tokenizers.js";
import { UNKNOWN_CONTEXT_TOKENS, type Registry } from "./registry.js";
import { meterStream, type Batches, type RecordBase } from "./stream-meter.js";
import { TokenCounter } from "./token-counter.js";
import type { WorkerHealth } from "./worker-health.js";
import type { Attempt, Candidate, ChatRequest, PromptWindow, RequestRecord } from "./types.js";
import { merge } from "../merge.js";

export { NO_PROVIDER_MESSAGE } from "./candidate-loop.js";

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

/** A reply that has begun: a candidate answered with its first event, which `batches` replays. */
export type OpenStream = {
  candidate: Candidate;
  /** How many messages the prompt sent to that candidate held (its fitted prompt, system message included). */
  promptMessages: number;
  attempts: Attempt[];
  /** The events in batches as they were read (never empty); the batches end by themselves after an error. */
  batches: Batches;
  /** Reads the stream to its end without passing its events on (instead of `batches`, never beside it). */
  drain: () => Promise<void>;
  /** Resolves when the stream has ended, however it ended, with what was recorded. */
  record: Promise<RequestRecord>;
};

/**
 * The request lifecycle. Framework-free: takes a ChatRequest, returns a stream of events. The
 * candidate loop fails over until one model has produced its first event; after that the reply is
 * committed to that model and the stream meter keeps its account. Every request is recorded once.
 */
export function createGateway(opts: GatewayOptions) {
  const { registry } = opts;
  const tokens = opts.tokenCounter ?? new TokenCounter();
  const outcomes = createOutcomes(opts);
  const tokenizerOf = (c: Candidate) => c.model.tokenizer ?? defaultTokenizer(c.model.modelKey, c.provider.kind);

  /** A candidate's window, and the tokenizer its prompt is counted with. */
  function windowOf(c: Candidate, task: string, req: ChatRequest): PromptWindow {
    const tokenizer = tokenizerOf(c);
    return {
      contextLength: c.model.contextLength ?? UNKNOWN_CONTEXT_TOKENS,
      maxTokens: registry.paramsFor(c, task, req.params).max_tokens,
      tokenizer,
      count: (texts) => tokens.count(tokenizer, texts, c.provider.baseUrl),
    };
  }
  const loop = merge(opts, { outcomes, windowOf });
  const meter = { outcomes, idleMs: opts.timeouts.idleMs, requestMs: opts.timeouts.requestMs, onRecord: opts.onRecord, log: opts.log };

  async function openStream(req: ChatRequest): Promise<OpenStream> {
    const started = performance.now();
    const deadline = started + opts.timeouts.requestMs;
    const task = (req.model && registry.findModel(req.model)?.task) || req.task;
    const attempts: Attempt[] = [];
    const base: RecordBase = { at: new Date(), clientId: req.meta?.clientId, sessionId: req.meta?.sessionId, apiKeyId: req.meta?.apiKeyId, task, requestedModel: req.model, attempts };

    try {
      const opened = await firstAnswer(loop, req, task, attempts, deadline);
      return {
        candidate: opened.candidate,
        promptMessages: opened.messages.length,
        attempts,
        ...meterStream(meter, opened, req.signal, base, started, deadline),
      };
    } catch (err) {
      const e = err instanceof GatewayError ? err : new GatewayError("upstream_unavailable", "The gateway failed before the reply began", attempts);
      opts.onRecord(merge(base, {
        status: e.code === "aborted" ? "aborted" : e.code,
        totalMs: Math.round(performance.now() - started),
        text: "",
        promptTokens: 0,
        completionTokens: 0,
        tokensEstimated: false,
        cost: null,
        error: e.message,
      }));
      throw e;
    }
  }

  /** The whole reply at once, for callers that do not stream (the `/v1` API with `stream: false`, enhance). */
  async function complete(req: ChatRequest): Promise<{ candidate: Candidate; attempts: Attempt[]; record: RequestRecord }> {
    const open = await openStream(req);
    await open.drain();
    return { candidate: open.candidate, attempts: open.attempts, record: await open.record };
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
    return tokens.warm(registry.activeModels().map(tokenizerOf));
  }

  return {
    openStream,
    complete,
    largestContext,
    warmTokenizers,
    ...createAdminOperations(merge(opts, { outcomes })),
  };
}

export type Gateway = ReturnType<typeof createGateway>;
