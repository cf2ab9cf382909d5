import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import type { CharacterService } from "../chat/characters.js";
import { z } from "zod";
import { notFound } from "../errors.js";
import { attachment } from "./attachment.js";
import { readBinary, validate } from "./validation.js";

const exportQuery = z.object({ format: z.enum(["png", "json", "charx"], "Choose png, json or charx").default("png") });

/**
 * A person's own characters: `POST /` takes one card file (PNG, CHARX or JSON) as the request's
 * body — a browser sends several files one request each, so each succeeds or fails on its own —
 * and `GET /` lists them. Importing counts like creating a conversation.
 */
export function characterRoutes(deps: { characters: CharacterService; limitCreate: MiddlewareHandler<AppEnv> }) {
  return new Hono<AppEnv>()
    // The card as a file to keep or take to another app.
    .get("/:slug/export", async (c) => {
      const { format } = validate(exportQuery, c.req.query());
      const file = await deps.characters.exportCard(c.var.clientId, c.req.param("slug"), format);
      return c.body(new Uint8Array(file.bytes), 200, {
        "Content-Type": file.contentType,
        "Content-Disposition": attachment(file.filename),
      });
    })
    // The character's own picture (its card's image), for the avatar.
    .get("/:slug/image", async (c) => {
      const image = await deps.characters.image(c.var.clientId, c.req.param("slug"));
      if (!image) throw notFound("Picture");
      return c.body(new Uint8Array(image.bytes), 200, { "Content-Type": image.contentType });
    })
    .get("/", async (c) => c.json({ characters: await deps.characters.list(c.var.clientId) }))
    .post("/", deps.limitCreate, async (c) => {
      const result = await deps.characters.importCard(c.var.clientId, await readBinary(c));
      return c.json(result, result.alreadyImported ? 200 : 201);
    });
}
