import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { MessageView, Reply } from "../chat/service.js";
import type { Logger } from "../logger.js";

/**
 * Sends a reply as server-sent events: `start` (the stored user message, who answers),
 * then `delta`s, then `done` or `error`. Routing headers are set before the first byte.
 */
export function streamReply(c: Context, reply: Reply, userMessage: MessageView | undefined, log: Logger) {
  c.header("x-parley-attempts", String(reply.attempts.length));
  // Who answered; for a reply that never started, the last candidate tried.
  const last = reply.attempts.at(-1);
  const served = reply.started ? { provider: reply.provider, model: reply.model } : last;
  if (served) {
    c.header("x-parley-provider", served.provider);
    c.header("x-parley-model", served.model);
  }
  c.header("Cache-Control", "no-cache, no-transform");
  c.header("X-Accel-Buffering", "no");
  // Errors are caught here rather than through streamSSE's onError, which would also send the raw message.
  return streamSSE(c, async (stream) => {
    try {
      const start = reply.started ? { provider: reply.provider, model: reply.model } : {};
      await stream.writeSSE({ event: "start", data: JSON.stringify({ userMessage: userMessage ?? null, ...start }) });
      if (!reply.started) {
        await stream.writeSSE({ event: "error", data: JSON.stringify({ type: "error", code: reply.code, message: reply.message }) });
        return;
      }
      for await (const ev of reply.events) {
        if (stream.aborted) break;
        await stream.writeSSE({ event: ev.type, data: JSON.stringify(ev) });
      }
    } catch (err) {
      log.error({ err: (err as Error).message }, "reply stream failed");
      await stream.writeSSE({
        event: "error",
        data: JSON.stringify({ type: "error", code: "internal_error", message: "Something went wrong while replying" }),
      });
    }
  });
}
