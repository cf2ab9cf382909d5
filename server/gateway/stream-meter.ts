import type { Opened } from "./candidate-loop.js";
import type { Outcomes } from "./outcomes.js";
import { costOf, countTokens } from "./usage.js";
import type { Cancellation, RequestRecord, StreamEvent, Usage } from "./types.js";
import { mergeToolCalls, type ToolCall } from "../../contracts/openai.js";
import { errorFields } from "../error-report.js";

/** What every request's record starts with, before its stream says how it went. */
export type RecordBase = Pick<RequestRecord, "at" | "clientId" | "sessionId" | "apiKeyId" | "task" | "requestedModel" | "attempts">;

export type MeterOptions = {
  outcomes: Outcomes;
  /** The idle timeout when the provider sets none, and the whole request's budget (for the message). */
  idleMs: number;
  requestMs: number;
  onRecord: (record: RequestRecord) => void;
  log?: { warn(obj: object, msg: string): void };
};

/**
 * Passes the stream on while keeping account of it: text, usage, time to first token, how it
 * ended. Ends the stream with an error event on idle or when the request's budget runs out,
 * settles the model's circuit, and records the request once, however the stream ends (the
 * consumer leaving included).
 */
export function meterStream(
  opts: MeterOptions,
  opened: Opened,
  signal: Cancellation,
  base: RecordBase,
  started: number,
  deadline: number,
): { batches: Batches; drain: () => Promise<void>; record: Promise<RequestRecord> } {
  let resolveRecord!: (r: RequestRecord) => void;
  const record = new Promise<RequestRecord>((resolve) => (resolveRecord = resolve));

  // Handed out in batches, as read: a reader passing events on walks each batch itself. A
  // generator that gave them one at a time cost a promise and a turn of the microtask queue per
  // event, on every streamed token.
  const stream = new Batches(meterBatches(opts, { opened, signal, base, started, deadline }, resolveRecord));

  /** Reads the whole stream for its record, for a caller that wants the answer at once. */
  async function drain(): Promise<void> {
    for await (const _ of stream) {
      // the record accumulates the text
    }
  }

  return { batches: stream, drain, record };
}

/**
 * The metered stream as handed out. A generator closed before its first `next()` never runs its
 * body, so its `finally` would not record the request, settle the model's circuit or let the
 * upstream go, and whoever waits on the record would wait for ever. Closed unstarted, this starts it
 * first: it replays the first batch (read already) and ends there, recorded as aborted with that text.
 */
export class Batches implements AsyncIterableIterator<StreamEvent[]> {
  private started = false;
  constructor(private readonly inner: AsyncGenerator<StreamEvent[]>) {}

  next(): Promise<IteratorResult<StreamEvent[]>> {
    this.started = true;
    return this.inner.next();
  }

  async return(value?: undefined): Promise<IteratorResult<StreamEvent[]>> {
    if (!this.started) {
      this.started = true;
      await this.inner.next();
    }
    return this.inner.return(value);
  }

  [Symbol.asyncIterator](): Batches {
    return this;
  }
}

/** The request a stream belongs to, as the meter reads it. */
type Metered = { opened: Opened; signal: Cancellation; base: RecordBase; started: number; deadline: number };

// What this candidate was sent, for the estimate when it reports no usage (counted only then: a long story sends thousands of messages).
const promptChars = (opened: Opened) => opened.messages.reduce((n, m) => n + m.content.length, 0);

/**
 * The stream in batches as they were read, observed; ends after an error event.
 *
 * Declared once, at module level, with its request's state passed in. A generator function made
 * per request (a closure) gets a fresh prototype object and initial map at each call. V8 registers
 * that map, through the prototype's chain, in a weak list held by %AsyncGeneratorPrototype%, and
 * its scavenger treats weak references as strong: the map, the closure it names as constructor,
 * the closure's context and with it the request's whole graph survived every young-generation
 * collection until the next full one. That promoted 12 % of all a /v1 request allocated (5 % once
 * moved here; under 1 % in the minimal gateway), the main cost of Parley's throughput against it.
 */
async function* meterBatches(opts: MeterOptions, metered: Metered, resolveRecord: (r: RequestRecord) => void): AsyncGenerator<StreamEvent[]> {
  const { opened, signal, base, started, deadline } = metered;
  const c = opened.candidate;
  const idleMs = c.provider.idleTimeoutMs ?? opts.idleMs;
  let text = "";
  let reasoning = "";
  const toolCalls: ToolCall[] = [];
  let ttftMs: number | undefined;
  let usage: Usage | undefined;
  let finish: string | undefined;
  let error: string | undefined;
  let ended = false;
  /** Takes account of a batch; true when it ends the stream (an error). */
  const observe = (batch: StreamEvent[]): boolean => {
    for (const ev of batch) {
      if (ev.type === "delta") {
        ttftMs ??= Math.round(performance.now() - started);
        text += ev.text;
      } else if (ev.type === "tool_calls") {
        ttftMs ??= Math.round(performance.now() - started);
        mergeToolCalls(toolCalls, ev.calls);
      } else if (ev.type === "reasoning") reasoning += ev.text;
      else if (ev.type === "usage") usage = ev.usage;
      else if (ev.type === "finish") finish = ev.reason;
      else {
        finish = "error";
        error = ev.message;
        return true;
      }
    }
    return false;
  };
  // Two timers for the whole stream, re-armed rather than made anew per read: the idle one
  // counts only while a read is awaited (a slow reader downstream is not a silent model).
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
    // The first event is never an error: callCandidate counts that as a failed attempt.
    let stop = observe(opened.first);
    yield opened.first;
    while (!stop) {
      if (performance.now() >= deadline) expired = "budget";
      let next: IteratorResult<StreamEvent[]> | undefined;
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
        const timedOut: StreamEvent[] = [
          {
            type: "error",
            message:
              expired === "budget"
                ? `The reply took longer than the request's ${Math.round(opts.requestMs / 1000)} s budget`
                : `The model sent nothing for ${Math.round(idleMs / 1000)} s`,
          },
        ];
        observe(timedOut);
        yield timedOut;
        break;
      }
      if (next.done) break;
      stop = observe(next.value);
      yield next.value;
    }
    ended = true;
  } catch (err) {
    ended = true;
    if (!signal.aborted) {
      finish = "error";
      error = "The connection to the model was lost mid-reply";
      opts.log?.warn({ provider: c.provider.name, ...errorFields(err) }, "upstream stream failed");
      opts.outcomes.streamLost(c, error);
      yield [{ type: "error", message: error }];
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
    const aborted = !ended || signal.aborted;
    if (aborted) finish = "aborted";
    // The model answered, so a reader leaving early is not its failure.
    opened.settle(finish === "error" ? "error" : "ok", error);
    const tokens = countTokens(usage, usage ? 0 : promptChars(opened), text.length);
    // One literal of one shape (absent parts undefined): spreads and properties added one by one
    // made a new object shape per request, which building it and everything reading it paid for.
    const rec: RequestRecord = {
      at: base.at,
      clientId: base.clientId,
      sessionId: base.sessionId,
      apiKeyId: base.apiKeyId,
      task: base.task,
      requestedModel: base.requestedModel,
      attempts: base.attempts,
      provider: c.provider.name,
      model: c.model.modelKey,
      status: aborted ? "aborted" : finish === "error" ? "error" : "ok",
      ttftMs,
      totalMs: Math.round(performance.now() - started),
      text,
      toolCalls: toolCalls.length ? toolCalls.filter(Boolean) : undefined,
      reasoning: reasoning || undefined,
      finishReason: finish ?? "stop",
      promptTokens: tokens.promptTokens,
      completionTokens: tokens.completionTokens,
      tokensEstimated: tokens.tokensEstimated,
      cachedTokens: usage?.cachedTokens,
      cacheWriteTokens: usage?.cacheWriteTokens,
      reasoningTokens: usage?.reasoningTokens,
      generationId: usage?.generationId || undefined,
      cost: costOf(usage, c.model, tokens.promptTokens, tokens.completionTokens),
      error,
    };
    opts.onRecord(rec);
    resolveRecord(rec);
  }
}
