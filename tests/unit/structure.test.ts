import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Where code may reach. contracts/ is what the browser, the worker and the server share: it
 * imports nothing of theirs, and neither the browser nor the worker imports the server. What a
 * provider kind does differently lives in its adapter (server/gateway/providers/), nowhere else.
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

  it("keeps web/ and worker/ free of server/, types included", () => {
    expect(sources("worker").length).toBeGreaterThan(3);
    const offending = [...sources("web/src"), ...sources("worker")].flatMap(importsOf).filter((i) => reaches(i.file, i.specifier, "server"));
    expect(offending).toEqual([]);
  });

  it("keeps every provider-kind branch inside the provider adapters", () => {
    const kindBranch = /\bkind\s*[!=]==?\s*["'](openrouter|openai_compatible|chat_worker)["']|case\s+["'](openrouter|openai_compatible|chat_worker)["']/;
    const offending = [...sources("server"), ...sources("web/src"), ...sources("worker"), ...sources("contracts")].filter(
      (f) => !f.startsWith(path.join("server", "gateway", "providers") + path.sep) && kindBranch.test(readFileSync(path.join(root, f), "utf8")),
    );
    expect(offending).toEqual([]);
  });
});
