import { execFileSync } from "node:child_process";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { buildEntries } from "./parley.js";
import { startTempPostgres, type TempPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, "../..");
export const TEST_WEB_DIR = path.join(ROOT, "test-results", "web");
let pg: TempPostgres | undefined;

/**
 * Once per run: build the web app the end-to-end tests load and the server and worker every test
 * starts (the bundles `npm start` runs), and start a throwaway Postgres.
 * Failing to start either fails the run: a suite that cannot run must not pass by skipping.
 */
export async function setup(project: TestProject) {
  // Built into a folder of the test run's own, so a developer's dist/ (and a running `npm start`) is left alone.
  execFileSync(process.execPath, ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn", "--outDir", TEST_WEB_DIR], {
    cwd: ROOT,
    stdio: "inherit",
    // vitest sets NODE_ENV=test, which would give React's development build.
    env: { ...process.env, NODE_ENV: "production" },
  });
  await buildEntries();
  pg = await startTempPostgres();
  project.provide("postgresUrl", pg.url);
}

export function teardown() {
  pg?.stop();
}
