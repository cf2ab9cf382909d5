import { Hono, type Context, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { characterEditSchema } from "../../contracts/character-card.js";
import type { CharacterService } from "../chat/characters.js";
import type { Owner } from "../chat/lorebooks.js";
import { notFound } from "../errors.js";
import { attachment } from "./attachment.js";
import { readBinary, readJson, validate } from "./validation.js";

const exportQuery = z.object({ format: z.enum(["png", "json", "charx"], "Choose png, json or charx").default("png") });

/**
 * A character whole, for whoever owns it — a person their own (`/api/characters`), an admin the
 * gallery's (`/api/admin/characters`): its card's fields to edit, and the card to take out.
 */
export function characterEditorRoutes(deps: { characters: CharacterService; owner: (c: Context) => Owner }) {
  const { characters, owner } = deps;
  return new Hono()
    .get("/:slug", async (c) => c.json({ character: await characters.definition(owner(c), c.req.param("slug")) }))
    .patch("/:slug", async (c) => {
      const changes = await readJson(c, characterEditSchema);
      return c.json({ character: await characters.edit(owner(c), c.req.param("slug"), changes) });
    })
    // The card as a file to keep or take to another app.
    .get("/:slug/export", async (c) => {
      const { format } = validate(exportQuery, c.req.query());
      const file = await characters.exportCard(owner(c), c.req.param("slug"), format);
      return c.body(new Uint8Array(file.bytes), 200, {
        "Content-Type": file.contentType,
        "Content-Disposition": attachment(file.filename),
      });
    });
}

/**
 * A person's own characters: `POST /` takes one card file (PNG, CHARX or JSON) as the request's
 * body — a browser sends several files one request each, so each succeeds or fails on its own —
 * and `GET /` lists them, `DELETE /:slug` takes one out of the list (`POST /:slug/restore` puts it
 * back). Importing counts like creating a conversation.
 */
export function characterRoutes(deps: { characters: CharacterService; limitCreate: MiddlewareHandler<AppEnv> }) {
  return new Hono<AppEnv>()
    // The character's own picture (its card's image), for the avatar: anyone who may see the character.
    .get("/:slug/image", async (c) => {
      const image = await deps.characters.image(c.var.clientId, c.req.param("slug"));
      if (!image) throw notFound("Picture");
      return c.body(new Uint8Array(image.bytes), 200, { "Content-Type": image.contentType });
    })
    .get("/", async (c) => c.json({ characters: await deps.characters.list(c.var.clientId) }))
    .post("/", deps.limitCreate, async (c) => {
      const result = await deps.characters.importCard(c.var.clientId, await readBinary(c));
      return c.json(result, result.alreadyImported ? 200 : 201);
    })
    // Out of the person's list and back (an undo): its conversations stay theirs throughout.
    .delete("/:slug", async (c) => {
      await deps.characters.setListed(c.var.clientId, c.req.param("slug"), false);
      return c.json({ removed: c.req.param("slug") });
    })
    .post("/:slug/restore", async (c) => c.json({ character: await deps.characters.setListed(c.var.clientId, c.req.param("slug"), true) }))
    .route("/", characterEditorRoutes({ characters: deps.characters, owner: (c) => (c as Context<AppEnv>).var.clientId }));
}
