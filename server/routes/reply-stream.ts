import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { MessageView, Reply } from "../chat/service.js";
import { errorFields } from "../error-report.js";
import type { Logger } from "../logger.js";
import { servedByHeaders } from "./routing-headers.js";

/**
 * Sends a reply as server-sent events: `start` (the stored user message, who answers),
 * then `delta`s, then `done` or `error`. Routing headers are set before the first byte.
 *
 * This is the one place a claimed reply is handed to the network, so it is also the one place
 * that makes sure the reply is finished (stored, its session released) however the response goes:
 * streamed to the end, the client gone before the first event, or an exception before streaming.
 */
export function streamReply(c: Context, reply: Reply, userMessage: MessageView | undefined, log: Logger) {
  try {
    // Who answered; for a reply that never started, the last candidate tried.
    servedByHeaders(c, reply.started ? { provider: reply.provider, model: reply.model } : reply.attempts.at(-1), reply.attempts.length);
    c.header("Cache-Control", "no-cache, no-transform");
    c.header("X-Accel-Buffering", "no");
  } catch (err) {
    if (reply.started) void reply.finish();
    throw err;
  }
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
      log.error(errorFields(err), "reply stream failed");
      await stream
        .writeSSE({
          event: "error",
          data: JSON.stringify({ type: "error", code: "internal_error", message: "Something went wrong while replying" }),
        })
        .catch(() => {});
    } finally {
      if (reply.started) await reply.finish();
    }
  });
}
