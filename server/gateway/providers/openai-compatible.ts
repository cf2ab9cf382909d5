/**
 * The OpenAI chat-completions wire format, which every provider kind speaks: the request, the
 * streamed answer read into gateway events, and the error bodies.
 */

import { createParser } from "eventsource-parser";
import type { Candidate, ChatMessage, RequestParams, StreamEvent, Usage } from "../types.js";
import type { ToolCallDelta } from "../../../contracts/openai.js";
import { adapterFor, type AppIdentity } from "./index.js";
import { takeBuffer } from "../body-pool.js";
import { historyBytes, historyStretchOf } from "../history-wire.js";

/** A provider's headers: its extra headers first, which can never replace the credentials or protocol headers after them. */
export function providerHeaders(p: Candidate["provider"], secret: string | undefined, app: AppIdentity, accept: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.extraHeaders ?? {})) {
    if (!/^(authorization|content-type|content-length|accept|host|cookie)$/i.test(k) && k.toLowerCase() !== p.authHeaderName.toLowerCase()) headers[k] = v;
  }
  headers.Accept = accept;
  if (secret && p.authScheme === "bearer") headers[p.authHeaderName || "Authorization"] = `Bearer ${secret}`;
  if (secret && p.authScheme === "header") headers[p.authHeaderName] = secret;
  return Object.assign(headers, adapterFor(p.kind).headers(app));
}

/**
 * The HTTP request for one candidate, in the OpenAI chat-completions dialect that OpenRouter,
 * the local worker and most self-hosted servers speak. Always streamed: a non-streamed answer
 * for our own callers is the stream collected.
 */
export async function buildChatRequest(
  c: Candidate,
  secret: string | undefined,
  messages: readonly ChatMessage[] | readonly unknown[],
  params: RequestParams,
  app: AppIdentity,
): Promise<{ url: string; headers: Record<string, string>; body: Buffer }> {
  const headers = providerHeaders(c.provider, secret, app, "text/event-stream");
  headers["Content-Type"] = "application/json";
  const fields: Record<string, unknown> = {
    model: c.model.modelKey,
    stream: true,
    stream_options: { include_usage: true },
    ...params,
    ...adapterFor(c.provider.kind).bodyExtras(c.provider),
  };
  return { url: `${c.provider.baseUrl}/chat/completions`, headers, body: await jsonBody(fields, messages) };
}

/**
 * The request's JSON as bytes, its messages serialised one at a time. A long story's prompt
 * (~800 KB with a 200,000-token window) made as one string, then copied into bytes by undici, then
 * collected, held the event loop for tens of milliseconds on every reply; small strings die young,
 * and the bytes live outside the JavaScript heap.
 */
async function jsonBody(fields: Record<string, unknown>, messages: readonly unknown[]): Promise<Buffer> {
  const fieldsJson = JSON.stringify(fields);
  const head = Buffer.from(`${fieldsJson.slice(0, -1)}${fieldsJson.length > 2 ? "," : ""}"messages":[`);
  // A conversation's history comes as one stretch of bytes kept between replies (history-wire.ts).
  const marked = historyStretchOf(messages);
  // Only while the prompt still holds what was marked (its ends checked: it is not changed after).
  const stretch =
    marked && messages[marked.at] === marked.source[marked.from] && messages[marked.at + marked.count - 1] === marked.source[marked.from + marked.count - 1]
      ? marked
      : undefined;
  // Not frozen after all (undefined): written message by message like any other. The bytes are the
  // thread's own, and a thread has one reply at a time: nothing rewrites them before the copy below.
  const history = stretch ? await historyBytes(stretch.source, stretch.from, stretch.from + stretch.count) : undefined;
  const parts: Uint8Array[] = [];
  let lastYield = serialised;
  for (let i = 0; i < messages.length; i++) {
    if (history && i === stretch!.at) {
      parts.push(history);
      i += stretch!.count - 1;
      continue;
    }
    parts.push(messageBytes(messages[i]));
    // A long prompt not marked as history (a /v1 client's) serialises thousands of messages: other streams get a turn between stretches.
    if (serialised - lastYield >= SERIALISE_BETWEEN_TURNS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = serialised;
    }
  }
  // The head, the parts with a comma between each two, "]}".
  let size = head.length + Math.max(0, parts.length - 1) + 2;
  for (const part of parts) size += part.length;
  const body = takeBuffer(size);
  let at = head.copy(body, 0);
  for (let i = 0; i < parts.length; i++) {
    if (i) body[at++] = COMMA;
    body.set(parts[i]!, at);
    at += parts[i]!.length;
  }
  body[at++] = CLOSE_ARRAY;
  body[at] = CLOSE_OBJECT;
  return body;
}

const COMMA = 0x2c;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Messages serialised anew before the event loop gets a turn (~2 ms of work). */
const SERIALISE_BETWEEN_TURNS = 400;
let serialised = 0;

/** A message's JSON (a history's comes from history-wire.ts, kept between replies). */
function messageBytes(m: unknown): Buffer {
  serialised++;
  return Buffer.from(JSON.stringify(m));
}

type Chunk = {
  id?: string;
  choices?: { delta?: { content?: string | null; tool_calls?: ToolCallDelta[] | null; reasoning?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }[];
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    cost?: number;
    prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
    completion_tokens_details?: { reasoning_tokens?: number } | null;
  } | null;
  error?: { message?: string; code?: number | string };
};

/**
 * Turns an upstream SSE body (a Node stream, or any iterable of bytes) into gateway events, a batch
 * per chunk read (never empty): a read often carries several events, and each step of an async
 * generator costs a promise, so they travel together. Comment lines (OpenRouter's
 * `: OPENROUTER PROCESSING` keep-alives) never reach us: the parser drops them.
 */
export async function* readChatStream(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<StreamEvent[]> {
  let ready: StreamEvent[] = [];
  let finished = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (finished) return;
      if (ev.data === "[DONE]") {
        finished = true;
        return;
      }
      let chunk: Chunk;
      try {
        chunk = JSON.parse(ev.data) as Chunk;
      } catch {
        return; // A malformed chunk carries nothing we can use; the stream may still be fine.
      }
      if (chunk.error) {
        ready.push({ type: "error", message: withoutNul(String(chunk.error.message ?? "The model provider reported an error")) });
        finished = true;
        return;
      }
      const choice = chunk.choices?.[0];
      const delta = choice?.delta;
      const content = delta?.content;
      // Postgres text cannot hold NUL: a reply carrying one could be shown but never stored.
      const text = typeof content === "string" ? withoutNul(content) : undefined;
      // Reasoning has its own field (OpenRouter's `reasoning`, DeepSeek's `reasoning_content`), never the reply's.
      const thought = delta?.reasoning ?? delta?.reasoning_content;
      if (typeof thought === "string" && thought) ready.push({ type: "reasoning", text: withoutNul(thought) });
      if (text) ready.push({ type: "delta", text });
      if (Array.isArray(delta?.tool_calls) && delta.tool_calls.length) ready.push({ type: "tool_calls", calls: delta.tool_calls });
      if (chunk.usage) ready.push({ type: "usage", usage: toUsage(chunk.usage, chunk.id) });
      if (choice?.finish_reason && choice.finish_reason !== "error") ready.push({ type: "finish", reason: choice.finish_reason });
    },
  });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(typeof bytes === "string" ? bytes : decoder.decode(bytes, { stream: true }));
    if (ready.length === 0) continue;
    const batch = ready;
    ready = [];
    yield batch;
    // After an error nothing more is read; after [DONE] the body is read to its end, so its
    // connection goes back to the pool instead of being dropped.
    if (batch[batch.length - 1]!.type === "error") return;
  }
}

function toUsage(u: NonNullable<Chunk["usage"]>, generationId: string | undefined): Usage {
  const cached = u.prompt_tokens_details?.cached_tokens;
  const written = u.prompt_tokens_details?.cache_write_tokens;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  return {
    promptTokens: u.prompt_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    ...(typeof u.cost === "number" ? { cost: u.cost } : {}),
    ...(typeof cached === "number" ? { cachedTokens: cached } : {}),
    ...(typeof written === "number" ? { cacheWriteTokens: written } : {}),
    ...(typeof reasoning === "number" ? { reasoningTokens: reasoning } : {}),
    ...(generationId ? { generationId } : {}),
  };
}

/** The machine-readable code in an upstream error body (`context_length_exceeded`, say), when there is one. */
export function upstreamCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** The message in an upstream error body, in the OpenAI or OpenRouter shape, or its first words. */
export function upstreamMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const message = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    return typeof message === "string" && message ? withoutNul(message).slice(0, 500) : undefined;
  } catch {
    // Not an API's answer (an HTML page, a proxy's banner, another service entirely): not shown,
    // so a provider row cannot be used to read what some other host says.
    return undefined;
  }
}

const withoutNul = (s: string) => (s.includes("\u0000") ? s.replaceAll("\u0000", "") : s);
