import { Hono } from "hono";
import { AVATAR_STYLES, MAX_SEED_LENGTH, renderAvatar } from "../avatars/render.js";
import { AppError, notFound } from "../errors.js";

/** GET /avatars/:style/:seed.svg — DiceBear, rendered here; nothing is fetched from elsewhere. */
export const avatarRoutes = new Hono().get("/:style/:file", (c) => {
  const { style, file } = c.req.param();
  if (!file.endsWith(".svg")) throw notFound("Avatar");
  const seed = file.slice(0, -".svg".length);
  if (!(AVATAR_STYLES as readonly string[]).includes(style)) throw notFound(`Avatar style "${style}"`);
  if (seed.length === 0 || seed.length > MAX_SEED_LENGTH) {
    throw new AppError(400, "invalid_seed", `An avatar seed must be 1 to ${MAX_SEED_LENGTH} characters`);
  }
  const svg = renderAvatar(style, seed)!;
  return c.body(svg, 200, {
    "Content-Type": "image/svg+xml; charset=utf-8",
    // Same style and seed, same picture: cache for a year.
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
  });
});
