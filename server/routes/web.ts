import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";

/**
 * The built SPA: hashed assets cached for a year, and index.html for every other GET so that
 * client-side routes (/s/:slug) survive a reload.
 */
export function webRoutes(webDir: string) {
  const app = new Hono();
  const indexPath = path.join(webDir, "index.html");
  const root = webDir;

  app.use(
    "/assets/*",
    serveStatic({
      root,
      onFound: (_p, c) => c.header("Cache-Control", "public, max-age=31536000, immutable"),
    }),
  );
  app.use("*", serveStatic({ root, onFound: (_p, c) => c.header("Cache-Control", "no-cache") }));
  app.get("*", (c) => {
    if (!existsSync(indexPath)) {
      return c.text("The web app is not built yet: run `npm run build` (npm start does it for you).", 503);
    }
    c.header("Cache-Control", "no-cache");
    return c.html(readFileSync(indexPath, "utf8"));
  });
  return app;
}
