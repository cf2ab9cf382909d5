import { Hono, type Context, type MiddlewareHandler } from "hono";
import { lorebookSaveSchema } from "../../contracts/character-card.js";
import type { LorebookService, Owner } from "../chat/lorebooks.js";
import { notFound } from "../errors.js";
import { attachment } from "./attachment.js";
import { readBinary, readJson, UUID_RE } from "./validation.js";

/**
 * Lorebooks, the same for a person (`/api/lorebooks`: their own) and an admin
 * (`/api/admin/lorebooks`: the gallery's): `owner` says whose. A file is imported as the request's
 * body (`?name=` its file name); the editor saves the whole book back.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mounted under the app's and the admin's envs alike
export function lorebookRoutes(deps: { lorebooks: LorebookService; owner: (c: Context) => Owner; limitCreate?: MiddlewareHandler<any> }) {
  const { lorebooks, owner } = deps;
  const bookId = (id: string) => {
    if (!UUID_RE.test(id)) throw notFound("Lorebook");
    return id;
  };
  const noLimit: MiddlewareHandler = (_c, next) => next();
  return new Hono()
    .get("/", async (c) => c.json({ lorebooks: await lorebooks.list(owner(c)) }))
    .post("/", deps.limitCreate ?? noLimit, async (c) => {
      const text = (await readBinary(c)).toString("utf8");
      const lorebook = await lorebooks.importFile(owner(c), text, c.req.query("name"));
      return c.json({ lorebook }, 201);
    })
    .get("/:id", async (c) => c.json({ lorebook: await lorebooks.get(owner(c), bookId(c.req.param("id"))) }))
    .put("/:id", async (c) => {
      const input = await readJson(c, lorebookSaveSchema);
      return c.json({ lorebook: await lorebooks.save(owner(c), bookId(c.req.param("id")), input) });
    })
    .delete("/:id", async (c) => {
      await lorebooks.remove(owner(c), bookId(c.req.param("id")));
      return c.body(null, 204);
    })
    .get("/:id/export", async (c) => {
      const file = await lorebooks.exportFile(owner(c), bookId(c.req.param("id")));
      return c.body(new Uint8Array(file.bytes), 200, { "Content-Type": "application/json", "Content-Disposition": attachment(file.filename) });
    })
    // Attached to one of the owner's characters: its replies draw on the book too.
    .put("/:id/characters/:slug", async (c) =>
      c.json({ lorebook: await lorebooks.attach(owner(c), c.req.param("slug"), bookId(c.req.param("id"))) }),
    )
    .delete("/:id/characters/:slug", async (c) =>
      c.json({ lorebook: await lorebooks.detach(owner(c), c.req.param("slug"), bookId(c.req.param("id"))) }),
    );
}
