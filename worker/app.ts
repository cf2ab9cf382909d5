import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import { z } from "zod";
import {
  chatCompletionRequest,
  completion,
  completionId,
  completionStream,
  openaiError,
  toGatewayInput,
  type CompletionOutcome,
} from "../contracts/openai.js";
import { AppError, badRequest, type ErrorCode } from "../contracts/errors.js";
import { parseJson } from "../contracts/json-input.js";
import { PromptTooLongError, UnsupportedSchemaError, type Engine, type Generation, type Prepared, type Slot } from "./engine.js";
import { QueueFullError, SlotPool } from "./slots.js";
import { createTextBatcher } from "./text-batcher.js";

/** What the HTTP layer sees of the worker: nothing until the model has loaded. */
export type WorkerState = { engine?: Engine; pool?: SlotPool<Slot>; startedAt: number };

const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** POST /tokenize: the texts whose tokens Parley counts (a thread's messages, a batch at a time). */
const tokenizeRequest = z.object({ texts: z.array(z.string()).min(1).max(10_000) });
/** Tokens closer together than this share a stream event (see text-batcher.ts). */
const BATCH_MS = 10;

/** A 503 that says when to come back: the model is loading, or every slot and queue place is taken. */
class RetryLaterError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfterS: number,
  ) {
    super(503, code, message);
  }
}

const outcome = (g: Generation): CompletionOutcome => ({
  text: g.text,
  status: "ok",
  finishReason: g.finishReason,
  promptTokens: g.promptTokens,
  completionTokens: g.completionTokens,
  cost: null,
});

/**
 * The worker's HTTP face: OpenAI's chat completions (streamed and not), its model list, and /health.
 * It answers for one model, whatever name the request gives.
 */
export function createWorkerApp(state: WorkerState, log: Logger) {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err instanceof RetryLaterError) c.header("Retry-After", String(err.retryAfterS));
      return c.json(openaiError(err.status, err.code, err.message), err.status);
    }
    log.error({ err: err.message, stack: err.stack, path: c.req.path }, "unhandled error");
    return c.json(openaiError(500, "internal_error", "The worker failed to answer"), 500);
  });
  app.notFound((c) => c.json(openaiError(404, "not_found", `No route ${c.req.method} ${c.req.path}`), 404));

  app.get("/health", (c) => {
    const { engine, pool } = state;
    const body = {
      isHealthy: engine !== undefined,
      model: engine?.modelId ?? null,
      contextSize: engine?.contextSize ?? null,
      slots: { busy: pool?.busy ?? 0, total: pool?.total ?? 0 },
      queue: pool?.queued ?? 0,
      uptimeS: Math.round((Date.now() - state.startedAt) / 1000),
      template: engine?.template ?? null,
    };
    return c.json(body, engine ? 200 : 503);
  });

  app.get("/v1/models", (c) => {
    const data = state.engine
      ? [{ id: state.engine.modelId, object: "model", created: 0, owned_by: "parley-worker", context_length: state.engine.contextSize }]
      : [];
    return c.json({ object: "list", data });
  });

  // Parley fits prompts to this model's window by its own count (not an estimate): the texts' tokens.
  app.post(
    "/tokenize",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, "request_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      const { engine } = state;
      if (!engine) throw new RetryLaterError("model_loading", "The model is still loading", 2);
      const body = parseJson(await c.req.text(), tokenizeRequest);
      return c.json({ model: engine.modelId, counts: engine.countTokens(body.texts) });
    },
  );

  app.post(
    "/v1/chat/completions",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, "request_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      const { engine, pool } = state;
      if (!engine || !pool) throw new RetryLaterError("model_loading", "The model is still loading", 2);
      const body = parseJson(await c.req.text(), chatCompletionRequest);
      const { messages, params, needs } = toGatewayInput(body);
      // Said plainly rather than ignored: Parley routes such requests past the worker anyway.
      if (needs.tools) throw badRequest("invalid_request", "tools are not supported by the local worker");
      if (needs.images) throw badRequest("invalid_request", "image parts are not supported by the local worker");
      const prepared = prepare(engine, messages);
      const grammar = await engine.grammarFor(params.response_format).catch((err: unknown) => {
        if (err instanceof UnsupportedSchemaError) throw badRequest("invalid_request", `response_format: this JSON schema cannot be followed by the local worker (${err.message})`);
        throw err;
      });

      // The client's disconnect stops generation and frees the slot; so does a queued client leaving.
      const abort = new AbortController();
      c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
      const slot = await acquire(pool, engine, prepared, abort.signal);
      if (!slot) return new Response(null, { status: 499 });
      const heldSince = performance.now();
      const release = () => pool.release(slot, performance.now() - heldSince);
      const genParams = {
        grammar,
        maxTokens: params.max_tokens,
        temperature: params.temperature,
        topP: params.top_p,
        seed: params.seed,
        stop: params.stop,
      };
      const id = completionId();
      const created = Math.floor(Date.now() / 1000);
      const model = engine.modelId;

      if (!body.stream) {
        try {
          const g = await engine.generate(slot, prepared, genParams, { signal: abort.signal, onText: () => {} });
          return c.json(completion(id, created, model, outcome(g)));
        } catch (err) {
          if (abort.signal.aborted) return new Response(null, { status: 499 });
          throw err;
        } finally {
          release();
        }
      }

      const includeUsage = body.stream_options?.include_usage === true;
      c.header("Cache-Control", "no-cache, no-transform");
      c.header("X-Accel-Buffering", "no");
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => abort.abort());
        // Tokens arrive in a synchronous callback; writes are chained so they leave in order.
        let writing = Promise.resolve();
        const send = (line: string) => {
          writing = writing.then(() => (stream.aborted ? undefined : stream.writeSSE({ data: line })));
        };
        const events = completionStream(send, id, created, model);
        void events.start();
        const batcher = createTextBatcher((text) => void events.delta(text), BATCH_MS);
        try {
          const g = await engine.generate(slot, prepared, genParams, { signal: abort.signal, onText: (text) => batcher.push(text) });
          release();
          if (g.aborted) return batcher.cancel();
          batcher.flush();
          await events.end(outcome(g), { usage: includeUsage });
        } catch (err) {
          release();
          // Aborted before the first token: node-llama-cpp throws the abort reason; nobody is listening.
          if (abort.signal.aborted) return batcher.cancel();
          batcher.flush();
          log.error({ err: (err as Error).message }, "generation failed");
          const message = err instanceof PromptTooLongError ? err.message : "The worker failed while generating";
          const failed = { text: "", status: "error" as const, promptTokens: 0, completionTokens: 0, cost: null };
          await events.end(failed, { error: { code: 500, message }, usage: false });
        }
        await writing.catch(() => {});
      });
    },
  );

  return app;
}

function prepare(engine: Engine, messages: ReturnType<typeof toGatewayInput>["messages"]): Prepared {
  try {
    return engine.prepare(messages);
  } catch (err) {
    if (err instanceof PromptTooLongError) throw badRequest("context_length_exceeded", err.message);
    throw err;
  }
}

/** A slot, or undefined when the client left while queued. */
async function acquire(pool: SlotPool<Slot>, engine: Engine, prepared: Prepared, signal: AbortSignal): Promise<Slot | undefined> {
  try {
    return await pool.acquire(signal, (slot) => engine.sharedPrefix(slot, prepared));
  } catch (err) {
    if (err instanceof QueueFullError) {
      throw new RetryLaterError("worker_busy", `All ${pool.total} slots are busy and the queue is full; retry after ${err.retryAfterS} s`, err.retryAfterS);
    }
    if (signal.aborted) return undefined;
    throw err;
  }
}
