import { EventSourceParserStream } from "eventsource-parser/stream";
import type { Candidate, ChatMessage, RequestParams, StreamEvent, Usage } from "../types.js";

export type AppIdentity = { url: string; title: string };

/** A provider's headers: its extra headers first, which can never replace the credentials or protocol headers after them. */
export function providerHeaders(p: Candidate["provider"], secret: string | undefined, app: AppIdentity, accept: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.extraHeaders ?? {})) {
    if (!/^(authorization|content-type|content-length|accept|host|cookie)$/i.test(k) && k.toLowerCase() !== p.authHeaderName.toLowerCase()) headers[k] = v;
  }
  headers.Accept = accept;
  if (secret && p.authScheme === "bearer") headers[p.authHeaderName || "Authorization"] = `Bearer ${secret}`;
  if (secret && p.authScheme === "header") headers[p.authHeaderName] = secret;
  if (p.kind === "openrouter") {
    // OpenRouter's app attribution headers.
    headers["HTTP-Referer"] = app.url;
    headers["X-Title"] = app.title;
  }
  return headers;
}

/**
 * The HTTP request for one candidate, in the OpenAI chat-completions dialect that OpenRouter,
 * the local worker and most self-hosted servers speak. Always streamed: a non-streamed answer
 * for our own callers is the stream collected.
 */
export function buildChatRequest(
  c: Candidate,
  secret: string | undefined,
  messages: ChatMessage[],
  params: RequestParams,
  app: AppIdentity,
): { url: string; headers: Record<string, string>; body: string } {
  const headers = providerHeaders(c.provider, secret, app, "text/event-stream");
  headers["Content-Type"] = "application/json";
  const body: Record<string, unknown> = {
    model: c.model.modelKey,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...params,
  };
  // OpenRouter reports the exact cost of the request in the usage chunk when asked.
  if (c.provider.kind === "openrouter") body.usage = { include: true };
  return { url: `${c.provider.baseUrl}/chat/completions`, headers, body: JSON.stringify(body) };
}

type Chunk = {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; cost?: number } | null;
  error?: { message?: string; code?: number | string };
};

/**
 * Turns an upstream SSE body into gateway events. Comment lines (OpenRouter's
 * `: OPENROUTER PROCESSING` keep-alives) never reach us: the parser drops them.
 */
export async function* readChatStream(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const events = body
    .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream());
  for await (const ev of events) {
    if (ev.data === "[DONE]") return;
    let chunk: Chunk;
    try {
      chunk = JSON.parse(ev.data) as Chunk;
    } catch {
      continue; // A malformed chunk carries nothing we can use; the stream may still be fine.
    }
    if (chunk.error) {
      yield { type: "error", message: withoutNul(String(chunk.error.message ?? "The model provider reported an error")) };
      return;
    }
    const choice = chunk.choices?.[0];
    const content = choice?.delta?.content;
    // Postgres text cannot hold NUL: a reply carrying one could be shown but never stored.
    const text = typeof content === "string" ? withoutNul(content) : undefined;
    if (text) yield { type: "delta", text };
    if (chunk.usage) yield { type: "usage", usage: toUsage(chunk.usage) };
    if (choice?.finish_reason && choice.finish_reason !== "error") yield { type: "finish", reason: choice.finish_reason };
  }
}

function toUsage(u: NonNullable<Chunk["usage"]>): Usage {
  return {
    promptTokens: u.prompt_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    ...(typeof u.cost === "number" ? { cost: u.cost } : {}),
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
