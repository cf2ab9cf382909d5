import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Where code may reach. contracts/ is what the browser, the worker and the server share: it
 * imports nothing of theirs. The browser's bundle takes nothing of the server at run time: what
 * web/ still names from server/ (the view types) is `import type`, erased at build.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));

const sources = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(rel);
    return /\.(ts|tsx)$/.test(e.name) ? [rel] : [];
  });

/** Every import or re-export in a file: its specifier and whether it is type-only. */
const importsOf = (file: string) =>
  [...readFileSync(path.join(root, file), "utf8").matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)].map((m) => ({
    specifier: m[3]!,
    typeOnly: Boolean(m[2]),
    file,
  }));

const reaches = (file: string, specifier: string, dir: string) =>
  specifier.startsWith(".") && path.normalize(path.join(path.dirname(file), specifier)).startsWith(`${dir}${path.sep}`);

describe("the layout", () => {
  it("finds the sources it checks", () => {
    expect(sources("contracts").length).toBeGreaterThan(3);
    expect(sources("web/src").length).toBeGreaterThan(10);
  });

  it("keeps contracts/ free of server/, web/ and worker/", () => {
    const offending = sources("contracts")
      .flatMap(importsOf)
      .filter((i) => ["server", "web", "worker"].some((dir) => reaches(i.file, i.specifier, dir)));
    expect(offending).toEqual([]);
  });

  it("lets the web app take only types from server/", () => {
    const offending = sources("web/src")
      .flatMap(importsOf)
      .filter((i) => reaches(i.file, i.specifier, "server") && !i.typeOnly);
    expect(offending).toEqual([]);
  });
});
