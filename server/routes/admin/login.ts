import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { loginSchema } from "../../admin/schemas.js";
import type { AdminAuth } from "../../admin/auth.js";
import type { DatabaseLifecycle } from "../../db/lifecycle.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { ADMIN_COOKIE, ADMIN_COOKIE_PATH, type AdminEnv, unauthorized } from "../../middleware/admin-auth.js";
import { SlidingWindow } from "../../ratelimit/sliding-window.js";
import { readJson } from "../validation.js";

/** Ten wrong tokens per address per quarter hour: plenty for a typo, hopeless for guessing 192 bits. */
const FAILED_LOGINS = { limit: 10, windowMs: 15 * 60_000 };

const remoteAddress = (c: Context) => {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
};

/** POST /login, POST /logout, GET /session: the only admin paths open without credentials. */
export function loginRoutes(deps: { auth: AdminAuth; database: DatabaseLifecycle; log: Logger; sessionMs: number }) {
  const failures = new SlidingWindow(FAILED_LOGINS);

  return new Hono<AdminEnv>()
    .post("/login", async (c) => {
      const address = remoteAddress(c);
      const allowed = failures.check(address);
      if (!allowed.allowed) {
        c.header("Retry-After", String(allowed.retryAfterS));
        throw new AppError(429, "too_many_attempts", `Too many wrong tokens from this address; try again in ${Math.ceil(allowed.retryAfterS / 60)} min`);
      }
      const { token } = await readJson(c, loginSchema);
      const db = deps.database.require();
      if (!(await deps.auth.verifyToken(db, token))) {
        failures.hit(address);
        deps.log.warn({ address }, "admin login refused");
        throw new AppError(401, "wrong_token", "That is not the admin token");
      }
      const login = await deps.auth.login(db);
      setCookie(c, ADMIN_COOKIE, login.token, {
        httpOnly: true,
        sameSite: "Strict",
        path: ADMIN_COOKIE_PATH,
        expires: login.expiresAt,
        secure: new URL(c.req.url).protocol === "https:",
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
