import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The folder holding Parley's package.json, found from wherever this code runs: the sources under
 * tsx (server/…) or the built bundle (dist/server/main.js), which sit at different depths.
 */
export const PROJECT_ROOT = (() => {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${import.meta.dirname}`);
  }
})();

/** Parley runs from the bundle `npm start` builds (dist/server/main.js), not from its sources under tsx. */
const RUNNING_BUILT = import.meta.url.endsWith(".js");

/**
 * The arguments to `node` that start another of Parley's entry points the way Parley itself was
 * started: the bundle built beside this one (dist/worker/main.js beside dist/server/main.js), or the source under tsx.
 */
export const entryArgs = (name: "worker"): string[] =>
  RUNNING_BUILT ? [path.join(import.meta.dirname, "..", name, "main.js")] : ["--import", "tsx", path.join(PROJECT_ROOT, name, "main.ts")];
