import { z } from "zod";
import type { ChatRole, RequestStatus } from "./enums.js";
import type { ErrorCode } from "./errors.js";
import { missingOrWrong } from "./json-input.js";

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

/**
 * What a caller may set on top of the task profile (the `/v1` API passes its client's choices):
 * sampling, and what goes to the provider as the client wrote it — tools, the tool choice,
 * reasoning settings, structured output.
 */
export type RequestParams = Partial<SamplingParams> & {
  stop?: string[];
  seed?: number;
  response_format?: ResponseFormat;
  tools?: unknown[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  reasoning?: Record<string, unknown>;
  reasoning_effort?: string;
};

/** Content parts: text (with Anthropic's `cache_control`, or anything else a provider reads, passed on), and images. */
const textPart = z.object({ type: z.literal("text"), text: z.string() }).loose();
const imagePart = z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1), detail: z.string().optional() }).loose() }).loose();
const part = z.discriminatedUnion("type", [textPart, imagePart], { error: "a content part is text or image_url" });
const toolCall = z
  .object({ id: z.string(), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }).loose() })
  .loose();
const message = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"], { error: "role must be system, developer, user, assistant or tool" }),
    content: z.union([z.string(), z.array(part)]).nullable().optional(),
    name: z.string().optional(),
    /** An assistant's calls of the client's tools, and a tool message's answer to one of them. */
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose()
  .superRefine((m, ctx) => {
    if (m.role === "tool" && !m.tool_call_id) ctx.addIssue({ code: "custom", path: ["tool_call_id"], message: "a tool message answers a call: give its tool_call_id" });
    if (m.content == null && !(m.role === "assistant" && m.tool_calls?.length)) ctx.addIssue({ code: "custom", path: ["content"], message: "content is required (only an assistant's tool calls may come without)" });
  });

/** A tool call as it streams: pieces by index, the id and name first, the arguments in parts. */
export type ToolCallDelta = { index: number; id?: string; type?: "function"; function?: { name?: string; arguments?: string } };
/** A whole tool call, its pieces put together. */
export type ToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

/** Puts streamed tool-call pieces together, by index, in order. */
export function mergeToolCalls(into: ToolCall[], deltas: readonly ToolCallDelta[]): ToolCall[] {
  for (const d of deltas) {
    const at = (into[d.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
    if (d.id) at.id = d.id;
    if (d.function?.name) at.function.name += d.function.name;
    if (d.function?.arguments) at.function.arguments += d.function.arguments;
  }
  return into;
}

export const MAX_COMPLETION_TOKENS = 131_072;

export const chatCompletionRequest = z
  .object({
    model: z.string(missingOrWrong("model is required", "model must be a string")).min(1, "model is required"),
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
    tools: z.array(z.object({ type: z.literal("function", "a tool is of type function"), function: z.object({ name: z.string().min(1) }).loose() }).loose()).max(128).nullable().optional(),
    tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function") }).loose()]).nullable().optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    reasoning: z.record(z.string(), z.unknown()).nullable().optional(),
    reasoning_effort: z.string().max(20).nullable().optional(),
    response_format: responseFormatSchema.nullable().optional(),
    user: z.string().optional(),
  })
  .loose();

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/** What a request asks of the model that not every one takes: tools (calls, or their answers) and images. */
export type RequestNeeds = { tools: boolean; images: boolean };

export function toGatewayInput(body: ChatCompletionRequest): { messages: ChatMessage[]; raw: unknown[]; needs: RequestNeeds; params: RequestParams } {
  // Flattened to text for what Parley counts and estimates; `raw` is what the provider gets.
  const messages = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role === "tool" ? "user" : m.role,
    content: typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => (p.type === "text" ? p.text : "")).join(""),
  })) as ChatMessage[];
  const raw = body.messages.map((m) => (m.role === "developer" ? { ...m, role: "system" } : m));
  const needs: RequestNeeds = {
    tools: (body.tools?.length ?? 0) > 0 || body.messages.some((m) => m.role === "tool" || (m.tool_calls?.length ?? 0) > 0),
    images: body.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === "image_url")),
  };
  const stop = body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop;
  const params: RequestParams = {
    temperature: body.temperature ?? undefined,
    top_p: body.top_p ?? undefined,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop,
    seed: body.seed ?? undefined,
    response_format: body.response_format ?? undefined,
    tools: body.tools ?? undefined,
    tool_choice: body.tool_choice ?? undefined,
    parallel_tool_calls: body.parallel_tool_calls ?? undefined,
    reasoning: body.reasoning ?? undefined,
    reasoning_effort: body.reasoning_effort ?? undefined,
  };
  return { messages, raw, needs, params };
}

/** 24 random hex digits, as OpenAI's ids have (Web Crypto's UUID: the same in Node and a browser, and cheap). */
export const completionId = () => `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** What a finished completion reports: the gateway's record of a request, or the local worker's own generation. */
export type CompletionOutcome = {
  /** The reply as received. */
  text: string;
  /** The model's calls of the client's tools, put together. */
  toolCalls?: ToolCall[];
  /** A reasoning model's thinking, apart from the reply. */
  reasoning?: string;
  cachedTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  status: RequestStatus;
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
  cost: number | null;
};

const usageOf = (r: Pick<CompletionOutcome, "promptTokens" | "completionTokens" | "cost" | "cachedTokens" | "cacheWriteTokens" | "reasoningTokens">) => ({
  prompt_tokens: r.promptTokens,
  completion_tokens: r.completionTokens,
  total_tokens: r.promptTokens + r.completionTokens,
  ...(r.cachedTokens || r.cacheWriteTokens ? { prompt_tokens_details: { cached_tokens: r.cachedTokens ?? 0, ...(r.cacheWriteTokens ? { cache_write_tokens: r.cacheWriteTokens } : {}) } } : {}),
  ...(r.reasoningTokens ? { completion_tokens_details: { reasoning_tokens: r.reasoningTokens } } : {}),
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
    choices: [
      {
        index: 0,
        message: {
          role: "assistant" as const,
          // A reply that only calls tools has no content, as OpenAI sends it.
          content: r.text === "" && r.toolCalls?.length ? null : r.text,
          ...(r.toolCalls?.length ? { tool_calls: r.toolCalls } : {}),
          ...(r.reasoning ? { reasoning: r.reasoning } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(r),
      },
    ],
    usage: usageOf(r),
  };
}

export function chunk(
  id: string,
  created: number,
  model: string,
  delta: { role?: "assistant"; content?: string; tool_calls?: readonly ToolCallDelta[]; reasoning?: string },
  finish: string | null = null,
) {
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

const TEXT_MARK = "\u0000text";
const TEXT_MARK_JSON = JSON.stringify(TEXT_MARK);

/**
 * One OpenAI chat-completion stream, event by event, as `/v1` and the local worker both write it:
 * the role, the content, then the finish reason (with the error when it failed after the first
 * byte, as OpenRouter does), usage, and `[DONE]`. `send` writes one SSE `data:` line; a send that
 * returns a promise (backpressure) is awaited before the next.
 */
export function completionStream(send: (data: string) => void | Promise<void>, id: string, created: number, model: string) {
  // Every token's chunk is the same JSON but for its text: written once per stream (and field), the
  // text filled in per token (the whole chunk stringified took ~0.8 µs a token, the text alone
  // ~0.06). The text is the chunk's last string, after the id and the model, whatever those hold.
  const filled = (field: "content" | "reasoning") => {
    const template = JSON.stringify(chunk(id, created, model, { [field]: TEXT_MARK }));
    const at = template.lastIndexOf(TEXT_MARK_JSON);
    const before = template.slice(0, at);
    const after = template.slice(at + TEXT_MARK_JSON.length);
    return (text: string) => before + JSON.stringify(text) + after;
  };
  const content = filled("content");
  let reasoning: ((text: string) => string) | undefined;
  return {
    start: () => send(JSON.stringify(chunk(id, created, model, { role: "assistant", content: "" }))),
    delta: (text: string) => send(content(text)),
    toolCalls: (calls: readonly ToolCallDelta[]) => send(JSON.stringify(chunk(id, created, model, { tool_calls: calls }))),
    /** Reasoning goes in its own field of the delta, never mixed into `content`. */
    reasoning: (text: string) => send((reasoning ??= filled("reasoning"))(text)),
    async end(outcome: CompletionOutcome, opts: { error?: { code: number; message: string }; usage: boolean }): Promise<void> {
      const last = finalChunk(id, created, model, outcome);
      await send(JSON.stringify(opts.error ? { ...last, error: opts.error } : last));
      if (opts.usage) await send(JSON.stringify(usageChunk(id, created, model, outcome)));
      await send("[DONE]");
    },
  };
}
