import { z } from "zod";
import type { ChatRole, RequestStatus } from "./enums.js";
import type { ErrorCode } from "./errors.js";

/**
 * OpenAI's chat-completions protocol, both ways: the request Parley's `/v1` and the local worker
 * accept, the shapes they answer with, and the messages and sampling the gateway sends upstream.
 * What we cannot honour (tools, several choices, images) is refused by name rather than ignored.
 */

export type ChatMessage = { role: ChatRole; content: string };

/** Sampling parameters a task profile sets and a model may override. */
export type SamplingParams = { temperature: number; max_tokens: number; top_p: number };

/**
 * Structured output, as OpenAI defines it: any JSON object, or JSON matching a schema. Passed to
 * providers as it is; Parley's local worker holds the model to it with a grammar.
 */
export const responseFormatSchema = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_object") }),
    z.object({
      type: z.literal("json_schema"),
      json_schema: z.object({
        name: z.string().min(1).max(64),
        description: z.string().optional(),
        schema: z.record(z.string(), z.unknown(), { error: "json_schema.schema must be a JSON Schema object" }),
        strict: z.boolean().nullable().optional(),
      }),
    }),
  ],
  { error: "response_format.type must be text, json_object or json_schema" },
);
export type ResponseFormat = z.infer<typeof responseFormatSchema>;

/** What a caller may set on top of the task profile (the `/v1` API passes its client's choices). */
export type RequestParams = Partial<SamplingParams> & { stop?: string[]; seed?: number; response_format?: ResponseFormat };

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const message = z.object({
  role: z.enum(["system", "developer", "user", "assistant"], {
    error: "role must be system, developer, user or assistant (tool messages are not supported)",
  }),
  content: z.union([z.string(), z.array(textPart, { error: "only text content parts are supported" })]).nullable(),
  name: z.string().optional(),
});

export const MAX_COMPLETION_TOKENS = 131_072;

export const chatCompletionRequest = z
  .object({
    model: z.string({ error: "model is required" }).min(1, "model is required"),
    messages: z.array(message, { error: "messages must be an array" }).min(1, "messages must not be empty"),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().gt(0).max(1).nullable().optional(),
    // Bounded like the admin's own overrides: a request cannot ask a model for an unbounded reply.
    max_tokens: z.number().int().positive().max(MAX_COMPLETION_TOKENS, `max_tokens is at most ${MAX_COMPLETION_TOKENS}`).nullable().optional(),
    max_completion_tokens: z
      .number()
      .int()
      .positive()
      .max(MAX_COMPLETION_TOKENS, `max_completion_tokens is at most ${MAX_COMPLETION_TOKENS}`)
      .nullable()
      .optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    n: z.literal(1, { error: "only n = 1 is supported" }).nullable().optional(),
    tools: z.array(z.unknown()).max(0, "tools are not supported").nullable().optional(),
    response_format: responseFormatSchema.nullable().optional(),
    user: z.string().optional(),
  })
  .loose();

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

export function toGatewayInput(body: ChatCompletionRequest): { messages: ChatMessage[]; params: RequestParams } {
  const messages = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => p.text).join(""),
  })) as ChatMessage[];
  const stop = body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop;
  const params: RequestParams = {
    temperature: body.temperature ?? undefined,
    top_p: body.top_p ?? undefined,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop,
    seed: body.seed ?? undefined,
    response_format: body.response_format ?? undefined,
  };
  return { messages, params };
}

/** 24 random hex digits, as OpenAI's ids have (Web Crypto's UUID: the same in Node and a browser, and cheap). */
export const completionId = () => `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** What a finished completion reports: the gateway's record of a request, or the local worker's own generation. */
export type CompletionOutcome = {
  /** The reply as received. */
  text: string;
  status: RequestStatus;
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
  cost: number | null;
};

const usageOf = (r: Pick<CompletionOutcome, "promptTokens" | "completionTokens" | "cost">) => ({
  prompt_tokens: r.promptTokens,
  completion_tokens: r.completionTokens,
  total_tokens: r.promptTokens + r.completionTokens,
  ...(r.cost != null ? { cost: r.cost } : {}),
});

/** OpenAI allows these finish reasons; an upstream's own (or ours: `error`) pass through as they are. */
const finishReason = (r: Pick<CompletionOutcome, "status" | "finishReason">) => (r.status === "error" ? "error" : r.finishReason ?? "stop");

export function completion(id: string, created: number, model: string, r: CompletionOutcome) {
  return {
    id,
    object: "chat.completion" as const,
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant" as const, content: r.text }, logprobs: null, finish_reason: finishReason(r) }],
    usage: usageOf(r),
  };
}

export function chunk(id: string, created: number, model: string, delta: { role?: "assistant"; content?: string }, finish: string | null = null) {
  return {
    id,
    object: "chat.completion.chunk" as const,
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

export function finalChunk(id: string, created: number, model: string, r: CompletionOutcome) {
  return chunk(id, created, model, {}, finishReason(r));
}

/** Usage arrives last, in a chunk of its own with no choices, as OpenAI sends it. */
export function usageChunk(id: string, created: number, model: string, r: CompletionOutcome) {
  return { id, object: "chat.completion.chunk" as const, created, model, choices: [], usage: usageOf(r) };
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
};

/** OpenAI's error shape; it carries our `code` and `message` like every other error body. */
export function openaiError(status: number, code: ErrorCode, message: string) {
  // A spent budget is OpenAI's own `insufficient_quota` type, which clients handle apart from a rate limit.
  const type = code === "insufficient_quota" ? "insufficient_quota" : (ERROR_TYPES[status] ?? "api_error");
  return { error: { message, type, param: null, code } };
}

/**
 * One OpenAI chat-completion stream, event by event, as `/v1` and the local worker both write it:
 * the role, the content, then the finish reason (with the error when it failed after the first
 * byte, as OpenRouter does), usage, and `[DONE]`. `send` writes one SSE `data:` line; a send that
 * returns a promise (backpressure) is awaited before the next.
 */
export function completionStream(send: (data: string) => void | Promise<void>, id: string, created: number, model: string) {
  return {
    start: () => send(JSON.stringify(chunk(id, created, model, { role: "assistant", content: "" }))),
    delta: (text: string) => send(JSON.stringify(chunk(id, created, model, { content: text }))),
    async end(outcome: CompletionOutcome, opts: { error?: { code: number; message: string }; usage: boolean }): Promise<void> {
      const last = finalChunk(id, created, model, outcome);
      await send(JSON.stringify(opts.error ? { ...last, error: opts.error } : last));
      if (opts.usage) await send(JSON.stringify(usageChunk(id, created, model, outcome)));
      await send("[DONE]");
    },
  };
}
