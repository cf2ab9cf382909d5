import { Hono } from "hono";
import { apiKeyCreateSchema, apiKeyPatchSchema } from "../../../contracts/api-keys.js";
import { isUniqueViolation } from "../../db/queries/admin.js";
import { AppError, notFound } from "../../errors.js";
import type { AdminEnv } from "../../middleware/admin-auth.js";
import { readJson, UUID_RE } from "../validation.js";
import type { AdminDeps } from "./shared.js";

/**
 * The Keys tab: Parley API keys with their limits and spend. A secret is in the answer that
 * makes it (create, rotate) and nowhere else; every change is live on every instance before the
 * answer goes (the key ring reloads with the routing rows).
 */
export function keyRoutes(deps: Pick<AdminDeps, "apiKeys" | "log" | "reloadRegistry">) {
  const id = (raw: string) => {
    if (!UUID_RE.test(raw)) throw notFound("API key");
    return raw;
  };
  const named = async <T,>(p: Promise<T>, name: string | undefined): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(409, "duplicate", `Another key is already named "${name}"`, { name: `Another key is already named "${name}"` });
      throw err;
    }
  };
  return new Hono<AdminEnv>()
    .get("/", async (c) => c.json({ keys: await deps.apiKeys.list() }))
    .post("/", async (c) => {
      const input = await readJson(c, apiKeyCreateSchema);
      const made = await named(deps.apiKeys.create(input), input.name);
      await deps.reloadRegistry();
      deps.log.info({ key: made.key.name }, "admin created an API key");
      return c.json(made, 201);
    })
    .patch("/:id", async (c) => {
      const patch = await readJson(c, apiKeyPatchSchema);
      const key = await named(deps.apiKeys.update(id(c.req.param("id")), patch), patch.name);
      await deps.reloadRegistry();
      deps.log.info({ key: key.name }, "admin edited an API key");
      return c.json({ key });
    })
    .post("/:id/rotate", async (c) => {
      const made = await deps.apiKeys.rotate(id(c.req.param("id")));
      await deps.reloadRegistry();
      deps.log.info({ key: made.key.name }, "admin rotated an API key");
      return c.json(made);
    })
    .post("/:id/revoke", async (c) => {
      const key = await deps.apiKeys.revoke(id(c.req.param("id")));
      await deps.reloadRegistry();
      deps.log.info({ key: key.name }, "admin revoked an API key");
      return c.json({ key });
    });
}
