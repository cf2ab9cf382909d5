import type { Context, MiddlewareHandler } from "hono";
import type { FailedLogins } from "../admin/failed-logins.js";
import { SAFE_METHODS } from "./same-origin.js";
import { getCookie } from "hono/cookie";
import { AdminAuth } from "../admin/auth.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { AppError } from "../errors.js";

export const ADMIN_COOKIE = "parley_admin";
/** The cookie is sent to the admin API only: the chat pages never carry it. */
export const ADMIN_COOKIE_PATH = "/api/admin";

export type AdminEnv = { Variables: { clientId: string; admin: { via: "token" | "session" } } };


/** Every failure is the same 401: which part was wrong, or whether the path exists, is not told. */
export const unauthorized = () => new AppError(401, "unauthorized", "Admin credentials are required: log in at /admin, or send Authorization: Bearer <ADMIN_TOKEN>");

/**
 * Admits the admin token as a Bearer header (scripts), or a login's session cookie (the dashboard).
 * A cookie rides along on any request the browser makes, so a state-changing call made with one
 * must also prove it came from our page: the session's CSRF token in X-CSRF-Token.
 */
export function requireAdmin(deps: {
  auth: AdminAuth;
  database: DatabaseLifecycle;
  failedLogins: FailedLogins;
  address: (c: Context) => string;
}): MiddlewareHandler<AdminEnv> {
  const { auth, database } = deps;
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      // A Bearer token is a login attempt like the form's: wrong ones share its budget per address.
      const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      const ok = await deps.failedLogins.attempt(c, deps.address(c), async () => Boolean(token) && (await auth.verifyToken(database.db, token!)));
      if (!ok) throw unauthorized();
      c.set("admin", { via: "token" });
      return next();
    }
    const cookie = getCookie(c, ADMIN_COOKIE);
    const db = database.db;
    const session = cookie && db ? await auth.session(db, cookie) : undefined;
    if (!session) throw unauthorized();
    if (!SAFE_METHODS.has(c.req.method) && !AdminAuth.csrfMatches(session.csrfToken, c.req.header("x-csrf-token"))) {
      throw new AppError(403, "csrf_failed", "This change did not come from the dashboard page (missing or wrong X-CSRF-Token); reload the page and try again");
    }
    c.set("admin", { via: "session" });
    return next();
  };
}
