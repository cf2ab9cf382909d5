// The server and the local worker as plain JavaScript, one file each (packages stay in
// node_modules): what `npm start` runs, and what the tests start, so both run the same code.
import { build } from "esbuild";

export const NODE_ENTRIES = { server: "server/main.ts", worker: "worker/main.ts" };

/** Writes `<outdir>/server/main.js` and `<outdir>/worker/main.js` (with source maps). */
export async function buildNode(outdir) {
  await build({
    entryPoints: Object.fromEntries(Object.entries(NODE_ENTRIES).map(([name, src]) => [`${name}/main`, src])),
    outdir,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
  });
}
