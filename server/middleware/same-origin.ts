import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import { AppError } from "../errors.js";

/** Methods that change nothing: no CSRF token, no same-origin check, and the only ones that may be given a client id. */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const OCTET_STREAM = /^application\/octet-stream\s*(?:;|$)/i;

/**
 * Changes come from Parley's own pages or from scripts, never from another site's page.
 *
 * - `Sec-Fetch-Site` (sent by every current browser) must be `same-origin`, or `none` (typed by the person).
 * - A browser too old to send it still sends `Origin` on a cross-site POST: it must be one of ours.
 * - A body must be JSON: an HTML form cannot send `application/json` without a CORS preflight,
 *   which Parley never grants, so a forged form cannot reach a JSON route at all.
 *
 * Scripts (curl, SDKs) send neither header and pass; what they may do is up to their credentials.
 */
export function sameOriginChanges(ownHosts: (c: Context) => string[]): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const site = c.req.header("sec-fetch-site")?.toLowerCase();
    if (site !== undefined) {
      if (site !== "same-origin" && site !== "none") throw crossSite();
    } else {
      const origin = c.req.header("origin");
      if (origin !== undefined && !ownHosts(c).includes(hostOf(origin))) throw crossSite();
    }
    const length = c.req.header("content-length");
    const hasBody = (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
    const type = c.req.header("content-type") ?? "";
    // A file upload (a character card) comes as application/octet-stream: like JSON, no form can send
    // it, and a script on another site would need the preflight Parley never grants.
    const binary = (c as Context<AppEnv>).get("binaryBody") === true;
    if (hasBody && !JSON_TYPE.test(type) && !(binary && OCTET_STREAM.test(type))) {
      throw new AppError(
        415,
        "unsupported_media_type",
        binary ? "Send the file as the request body, with Content-Type: application/octet-stream" : "Send the request body as JSON, with Content-Type: application/json",
      );
    }
    await next();
  };
}

const crossSite = () => new AppError(403, "cross_site", "Changes can only be made from Parley's own pages");

function hostOf(origin: string): string {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return ""; // `Origin: null` (a sandboxed frame, a file) is nobody's host
  }
}
