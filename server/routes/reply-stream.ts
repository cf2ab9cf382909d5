import type { Context } from "hono";
import type { MessageView, Reply } from "../chat/service.js";
import { errorFields } from "../error-report.js";
import type { Logger } from "../logger.js";
import { eventStream, headersSoFar, type EventWriter } from "./node-io.js";
import { servedBy } from "./routing-headers.js";
import { merge } from "../merge.js";

/**
 * Sends a reply as server-sent events: `start` (the stored user message, who answers),
 * then `delta`s, then `done` or `error`. Routing headers are set before the first byte. Written
 * straight to Node's response (routes/node-io.ts), with the headers earlier middleware set.
 *
 * This is the one place a claimed reply is handed to the network, so it is also the one place
 * that makes sure the reply is finished (stored, its session released) however the response goes:
 * streamed to the end, the client gone before the first event, or an exception before streaming.
 */
export function streamReply(c: Context, reply: Reply, userMessage: MessageView | undefined, log: Logger): Response {
  try {
    // Who answered; for a reply that never started, the last candidate tried.
    const headers = merge(
      headersSoFar(c),
      servedBy(reply.started ? { provider: reply.provider, model: reply.model } : reply.attempts.at(-1), reply.attempts.length),
    );
    // Throws only before the stream starts (its headers refused): finished below, as nothing else will.
    return eventStream(c, headers, (out) => relay(out, reply, userMessage, log), (err) => log.error(errorFields(err), "reply stream failed"));
  } catch (err) {
    if (reply.started) void reply.finish();
    throw err;
  }
}

/** The reply's events to the client, and the reply finished however that ends. */
async function relay(out: EventWriter, reply: Reply, userMessage: MessageView | undefined, log: Logger): Promise<void> {
  try {
    const start = reply.started ? { provider: reply.provider, model: reply.model } : {};
    await out.send(JSON.stringify({ userMessage: userMessage ?? null, ...start }), "start");
    if (!reply.started) {
      await out.send(JSON.stringify({ type: "error", code: reply.code, message: reply.message }), "error");
      return;
    }
    for await (const ev of reply.events) {
      if (out.aborted) break;
      await out.send(JSON.stringify(ev), ev.type);
    }
  } catch (err) {
    log.error(errorFields(err), "reply stream failed");
    try {
      await out.send(JSON.stringify({ type: "error", code: "internal_error", message: "Something went wrong while replying" }), "error");
    } catch {
      // the client is gone: nothing more to tell it
    }
  } finally {
    if (reply.started) await reply.finish();
  }
}
