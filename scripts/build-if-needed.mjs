// `npm start` builds the web app only when it is missing or older than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const out = "dist/web/index.html";
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);

const sources = Math.max(newest("web"), statSync("server/views.ts").mtimeMs);
if (!existsSync(out) || statSync(out).mtimeMs < sources) {
  // Vite is a build tool (a dev dependency): an install without dev dependencies serves a web app built beforehand.
  if (!existsSync("node_modules/vite/bin/vite.js")) {
    if (existsSync(out)) process.exit(0);
    console.error("The web app is not built, and Vite is not installed (dev dependencies were left out): run `npm install && npm run build` first.");
    process.exit(1);
  }
  console.log("Building the web app…");
  execFileSync(process.execPath, ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
    stdio: "inherit",
  });
}
