import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { loginSchema } from "../../../contracts/admin-schemas.js";
import { AppError } from "../../errors.js";
import { ADMIN_COOKIE, ADMIN_COOKIE_PATH, type AdminEnv, unauthorized } from "../../middleware/admin-auth.js";
import { readJson } from "../validation.js";
import type { AdminDeps } from "./shared.js";

/** POST /login, POST /logout, GET /session: the only admin paths open without credentials. */
export function loginRoutes(deps: AdminDeps) {
  return new Hono<AdminEnv>()
    .post("/login", async (c) => {
      const address = deps.address(c);
      const { token } = await readJson(c, loginSchema);
      const db = deps.database.require();
      if (!(await deps.failedLogins.attempt(c, address, () => deps.auth.verifyToken(db, token)))) {
        deps.log.warn({ address }, "admin login refused");
        throw new AppError(401, "wrong_token", "That is not the admin token");
      }
      const login = await deps.auth.login(db);
      setCookie(c, ADMIN_COOKIE, login.token, {
        httpOnly: true,
        sameSite: "Strict",
        path: ADMIN_COOKIE_PATH,
        expires: login.expiresAt,
        secure: deps.isHttps(c),
      });
      deps.log.info({ address }, "admin logged in");
      return c.json({ csrfToken: login.csrfToken, expiresAt: login.expiresAt });
    })
    .get("/session", async (c) => {
      const cookie = getCookie(c, ADMIN_COOKIE);
      const db = deps.database.db;
      const session = cookie && db ? await deps.auth.session(db, cookie) : undefined;
      if (!session) throw unauthorized();
      return c.json(session);
    })
    .post("/logout", async (c) => {
      const cookie = getCookie(c, ADMIN_COOKIE);
      const db = deps.database.db;
      if (cookie && db) await deps.auth.logout(db, cookie);
      deleteCookie(c, ADMIN_COOKIE, { path: ADMIN_COOKIE_PATH });
      return c.json({ ok: true });
    });
}
