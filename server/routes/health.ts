import { Hono } from "hono";
import type { DatabaseLifecycle } from "../db/lifecycle.js";

export function healthRoutes(deps: { database: DatabaseLifecycle; startedAt: number; version: string }) {
  return new Hono().get("/", async (c) => {
    const db = await deps.database.status();
    return c.json({
      status: db === "unavailable" ? "degraded" : "ok",
      db,
      version: deps.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    });
  });
}
