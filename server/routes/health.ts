import { Hono } from "hono";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import type { Registry } from "../gateway/registry.js";
import type { RateLimitStatus } from "../ratelimit/rate-limits.js";

/** What /api/health tells of the worker Parley runs itself (details stay in the logs). */
export type LocalWorkerStatus = { state: string; model: string | null; restarts: number };

export function healthRoutes(deps: {
  database: DatabaseLifecycle;
  registry: Registry;
  startedAt: number;
  version: string;
  localWorker: () => LocalWorkerStatus | null;
  instanceId: string;
  rateLimitStatus: () => RateLimitStatus;
}) {
  return new Hono().get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    const condition = await deps.database.condition();
    const db = condition.status;
    const rateLimit = deps.rateLimitStatus();
    return c.json({
      status: db === "unavailable" || !condition.writable || rateLimit.degraded ? "degraded" : "ok",
      /** Which process answered: behind a load balancer, each instance says its own name. */
      instance: deps.instanceId,
      db,
      database: {
        kind: deps.database.kind,
        reachable: db !== "unavailable",
        /** A real write succeeded lately; false while the disk is full or read-only, say. */
        writable: condition.writable,
        ...(condition.failure ? { failing: { kind: condition.failure.kind, since: condition.failure.since, error: condition.failure.error } } : {}),
      },
      rateLimit,
      version: deps.version,
      /** The version of the routing data this instance runs on: equal on every instance once they have reloaded. */
      registryVersion: deps.registry.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      localWorker: deps.localWorker(),
    });
  });
}

/** Settings the browser needs to behave like the server (limits), and nothing secret. */
export function publicConfigRoutes(deps: { maxMessageChars: number }) {
  return new Hono().get("/", (c) => c.json({ maxMessageChars: deps.maxMessageChars }));
}
