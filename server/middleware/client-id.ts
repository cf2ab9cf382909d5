import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env.js";
import { databaseFailureError } from "../db/failures.js";
import { AppError } from "../errors.js";
import { SAFE_METHODS } from "./same-origin.js";

export const CLIENT_COOKIE = "parley_client";
/** An id as issued before ids were signed; still honoured, and signed at the browser's next page load. */
const BARE_ID = /^[A-Za-z0-9_-]{32}$/;
const SIGNED_ID = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/;

/**
 * Browsers' client ids, signed with a key kept in the database (so every instance shares it).
 * A signature proves Parley issued the id: a client cannot make up ids to get a fresh rate-limit
 * budget each, and can only hold an id by having loaded a page.
 */
export class ClientIds {
  private key: Buffer | undefined;

  setKey(key: string) {
    this.key = Buffer.from(key, "base64url");
  }

  get ready(): boolean {
    return this.key !== undefined;
  }

  static newKey(): string {
    return randomBytes(32).toString("base64url");
  }

  sign(id: string): string {
    return `${id}.${this.mac(id)}`;
  }

  /** The id in a cookie value if Parley signed it. */
  verify(value: string | undefined): string | undefined {
    const m = value ? SIGNED_ID.exec(value) : null;
    if (!m || !this.key) return undefined;
    const expected = Buffer.from(this.mac(m[1]!));
    const given = Buffer.from(m[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : undefined;
  }

  private mac(id: string): string {
    return createHmac("sha256", this.key!).update(id).digest("base64url");
  }
}

export const unknownClient = () =>
  new AppError(403, "unknown_client", "This browser has no Parley session cookie (it was not sent, or it has expired): reload the page and try again");

/**
 * Identifies the browser with an unguessable id in an httpOnly cookie: sessions belong to it,
 * and no script on the page can read it.
 *
 * Only a page load (GET) is given an id. A request that changes something and arrives without a
 * signed id is refused, never handed a new one: a cross-site form's POST carries no cookie
 * (SameSite=Lax), and answering it with a fresh cookie would replace the person's real one and
 * lose them every conversation.
 */
export function clientId(ids: ClientIds, isHttps: (c: Context) => boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("clientId")) return next();
    const value = getCookie(c, CLIENT_COOKIE);
    const signed = ids.verify(value);
    if (signed) {
      c.set("clientId", signed);
      return next();
    }
    // Before the database is reached there is no key to check with, and nothing to change anyway.
    if (!SAFE_METHODS.has(c.req.method)) throw ids.ready ? unknownClient() : databaseFailureError("unreachable");
    const id = value && BARE_ID.test(value) ? value : randomBytes(24).toString("base64url");
    // Without the key (the database not reached yet) nothing is issued; the page still loads.
    if (ids.ready) {
      setCookie(c, CLIENT_COOKIE, ids.sign(id), {
        httpOnly: true,
        sameSite: "Lax",
        path: "/",
        maxAge: 400 * 24 * 3600,
        secure: isHttps(c),
      });
    }
    c.set("clientId", id);
    await next();
  };
}

/**
 * Who is asking, when the browser already has an id: for reads that show a person their own things
 * (their character, by its slug) and anyone else the public ones. Never mints an id, so parallel
 * read-only calls cannot race to overwrite the one the page load gave.
 */
export function knownClient(ids: ClientIds): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const signed = ids.verify(getCookie(c, CLIENT_COOKIE));
    if (signed) c.set("clientId", signed);
    await next();
  };
}
