import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger.js";
import { writtenStraight } from "../routes/node-io.js";

/**
 * One structured line per request: method, path, status, time. Never bodies or headers. A response
 * written straight to Node's (routes/node-io.ts) carries its real status there, not in Hono's
 * placeholder; an event stream is still going when its handler returns, so its line waits for its end.
 */
export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const outgoing = writtenStraight(c);
    const status = outgoing ? outgoing.statusCode : c.res.status;
    // Most lines are debug lines: at any other level they are not even made.
    if (status < 500 && !log.isLevelEnabled("debug")) return;
    const line = { method: c.req.method, path: c.req.path, status, ms: 0 };
    // The line alone is held while a stream goes on, not Hono's context.
    const write = () => {
      line.ms = Math.round(performance.now() - started);
      if (line.status >= 500) log.warn(line, "request");
      else log.debug(line, "request");
    };
    if (outgoing && !outgoing.writableEnded && !outgoing.destroyed) outgoing.once("close", write);
    else write();
  };
}
