import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { AppError, errorBody } from "../errors.js";
import type { Metrics } from "../metrics/metrics.js";
import { requestHeader } from "./node-io.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** GET /metrics in Prometheus's text format, for a scraper holding METRICS_TOKEN; off when it is unset. */
export function metricsRoute(deps: { metrics: Metrics; metricsToken: string | undefined }) {
  const token = deps.metricsToken ? digest(deps.metricsToken) : undefined;
  return new Hono().get("/", async (c) => {
    if (!token) return c.json(errorBody("not_found", "Metrics are off: set METRICS_TOKEN to scrape them"), 404);
    const given = /^Bearer\s+(.+)$/i.exec(requestHeader(c, "authorization") ?? "")?.[1]?.trim();
    // Compared as fixed-length digests in constant time.
    if (!given || !timingSafeEqual(digest(given), token)) throw new AppError(401, "unauthorized", "Send Authorization: Bearer <METRICS_TOKEN>");
    return c.body(await deps.metrics.text(), 200, { "Content-Type": deps.metrics.contentType, "Cache-Control": "no-store" });
  });
}
