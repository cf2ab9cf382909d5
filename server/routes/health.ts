import { Hono } from "hono";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import type { Registry } from "../gateway/registry.js";

export function healthRoutes(deps: { database: DatabaseLifecycle; registry: Registry; startedAt: number; version: string }) {
  return new Hono().get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    const db = await deps.database.status();
    return c.json({
      status: db === "unavailable" ? "degraded" : "ok",
      db,
      version: deps.version,
      /** The version of the routing data this instance runs on: equal on every instance once they have reloaded. */
      registryVersion: deps.registry.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    });
  });
}

/** Settings the browser needs to behave like the server (limits), and nothing secret. */
export function publicConfigRoutes(deps: { maxMessageChars: number }) {
  return new Hono().get("/", (c) => c.json({ maxMessageChars: deps.maxMessageChars }));
}
