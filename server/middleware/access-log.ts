import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger.js";

/** One structured line per request: method, path, status, time. Never bodies or headers. */
export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const line = { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) };
    if (c.res.status >= 500) log.warn(line, "request");
    else log.debug(line, "request");
  };
}
