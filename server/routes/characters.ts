import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import type { CharacterService } from "../chat/characters.js";
import { readBinary } from "./validation.js";

/**
 * A person's own characters: `POST /` takes one card file (PNG, CHARX or JSON) as the request's
 * body — a browser sends several files one request each, so each succeeds or fails on its own —
 * and `GET /` lists them. Importing counts like creating a conversation.
 */
export function characterRoutes(deps: { characters: CharacterService; limitCreate: MiddlewareHandler<AppEnv> }) {
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json({ characters: await deps.characters.list(c.var.clientId) }))
    .post("/", deps.limitCreate, async (c) => {
      const result = await deps.characters.importCard(c.var.clientId, await readBinary(c));
      return c.json(result, result.alreadyImported ? 200 : 201);
    });
}
