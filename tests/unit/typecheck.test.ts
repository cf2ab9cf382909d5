import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * Vitest and the builds strip types without checking them, so without this a type error or a
 * dead import would land unseen. Both projects: the server's (server, worker, contracts, tests,
 * bench, scripts) and the web app's.
 */
const root = path.resolve(import.meta.dirname, "../..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const run = promisify(execFile);

describe("types", () => {
  it.each(["tsconfig.json", "web/tsconfig.json"])("%s type-checks with no unused locals", async (project) => {
    const result = await run(process.execPath, [tsc, "-p", project, "--pretty", "false"], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
      () => ({ code: 0, output: "" }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, output: err.stdout ?? String(err) }),
    );
    expect(result).toEqual({ code: 0, output: "" });
  }, 300_000);
});
