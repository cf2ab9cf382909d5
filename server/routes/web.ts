import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type MiddlewareHandler } from "hono";

/** The build's compressed copies, best first. */
const PRECOMPRESSED = [
  { encoding: "br", ext: ".br", accepts: /\bbr\b/ },
  { encoding: "gzip", ext: ".gz", accepts: /\bgzip\b/ },
] as const;

/**
 * The built SPA: hashed assets cached for a year, and index.html for every other GET so that
 * client-side routes (/s/:slug) survive a reload.
 */
export function webRoutes(webDir: string, identify: MiddlewareHandler) {
  const app = new Hono();
  const indexPath = path.join(webDir, "index.html");
  const root = webDir;

  const sendIndex: MiddlewareHandler = async (c) => {
    if (!existsSync(indexPath)) {
      return c.text("The web app is not built yet: run `npm run build` (npm start does it for you).", 503);
    }
    c.header("Cache-Control", "no-cache");
    c.header("Vary", "Accept-Encoding");
    // The build's own compressed copy when the browser takes it (web/vite.config.ts makes them).
    const accepted = c.req.header("accept-encoding") ?? "";
    for (const { encoding, ext, accepts } of PRECOMPRESSED) {
      if (accepts.test(accepted) && existsSync(indexPath + ext)) {
        c.header("Content-Encoding", encoding);
        c.header("Content-Type", "text/html; charset=UTF-8");
        return c.body(readFileSync(indexPath + ext));
      }
    }
    return c.html(readFileSync(indexPath, "utf8"));
  };

  app.use(
    "/assets/*",
    serveStatic({
      root,
      precompressed: true,
      onFound: (_p, c) => c.header("Cache-Control", "public, max-age=31536000, immutable"),
    }),
  );
  // A missing hashed asset is a 404, not the page: HTML in place of a script only confuses.
  app.get("/assets/*", (c) => c.json({ error: { code: "not_found", message: "No such asset" } }, 404));
  // The page is a browser's first request: giving it its client id here means the API calls the
  // page then makes in parallel all carry the same id, rather than racing to mint one each.
  app.get("/", identify, sendIndex);
  app.use("*", serveStatic({ root, precompressed: true, onFound: (_p, c) => c.header("Cache-Control", "no-cache") }));
  app.get("*", identify, sendIndex);
  return app;
}
