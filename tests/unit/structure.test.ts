import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
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

/**
 * Generator functions and classes declared inside a function, in the code a request runs. Each
 * call makes a fresh prototype and initial map, which V8 (Node 20) registers in a weak list of an
 * old prototype; its scavenger keeps weak references alive, so the closure, its context and the
 * request behind it survive every young collection and are promoted. One such generator in the
 * stream meter promoted 12 % of all a /v1 request allocated and cost most of its throughput.
 */
const nestedConstructors = (file: string): string[] => {
  const text = readFileSync(path.join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node, insideFunction: boolean) => {
    const generator = (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node)) && Boolean(node.asteriskToken);
    const isClass = ts.isClassDeclaration(node) || ts.isClassExpression(node);
    if (insideFunction && (generator || isClass)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}`);
    }
    ts.forEachChild(node, (child) => visit(child, insideFunction || ts.isFunctionLike(node)));
  };
  visit(source, false);
  return found;
};

describe("the code a request runs", () => {
  it("finds a nested generator where there is one", () => {
    expect(nestedConstructors("tests/unit/fixtures/nested-generator.ts")).toEqual(["tests/unit/fixtures/nested-generator.ts:5", "tests/unit/fixtures/nested-generator.ts:9"]);
  });

  it("declares no generator function or class inside another function (server/, worker/, contracts/)", () => {
    const offending = [...sources("server"), ...sources("worker"), ...sources("contracts")].flatMap(nestedConstructors);
    expect(offending).toEqual([]);
  });
});
