import { randomBytes } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env.js";

export const CLIENT_COOKIE = "parley_client";
const VALID = /^[A-Za-z0-9_-]{32}$/;

/**
 * Identifies the browser with an unguessable id in an httpOnly cookie: sessions belong to it,
 * and no script on the page can read it.
 */
export const clientId: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("clientId")) return next();
  let id = getCookie(c, CLIENT_COOKIE);
  if (!id || !VALID.test(id)) {
    id = randomBytes(24).toString("base64url");
    setCookie(c, CLIENT_COOKIE, id, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
      maxAge: 400 * 24 * 3600,
      secure: new URL(c.req.url).protocol === "https:",
    });
  }
  c.set("clientId", id);
  await next();
};
