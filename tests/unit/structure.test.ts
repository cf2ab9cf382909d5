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
 * Shapes V8 (Node 20) makes anew at every evaluation, in code that runs per call (inside a function):
 * - a generator function or class declared there: a fresh prototype and initial map each call,
 *   registered in a weak list of an old prototype that the scavenger keeps alive, and with them the
 *   closure's context and the request behind it. One such generator in the stream meter promoted
 *   12 % of all a /v1 request allocated and cost most of its throughput;
 * - an object literal that starts with a spread and adds anything after it: the clone's map sits
 *   outside the transition tree, so each added property makes a new map (use `merge`, server/merge.ts);
 * - an object literal with a getter or setter: made a dictionary-mode object each time.
 */
const perCallShapes = (file: string, rules: { spreads: boolean }): string[] => {
  const text = readFileSync(path.join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${what}`);
  const visit = (node: ts.Node, insideFunction: boolean) => {
    if (insideFunction) {
      if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node)) && node.asteriskToken) at(node, "generator");
      if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) at(node, "class");
      if (ts.isObjectLiteralExpression(node)) {
        if (node.properties.some((p) => ts.isGetAccessor(p) || ts.isSetAccessor(p))) at(node, "accessor");
        if (rules.spreads && node.properties.length > 1 && ts.isSpreadAssignment(node.properties[0]!)) at(node, "spread");
      }
    }
    ts.forEachChild(node, (child) => visit(child, insideFunction || ts.isFunctionLike(node)));
  };
  visit(source, false);
  return found;
};

/** What every routed request or chat reply runs, where a spread's new map per call counts. */
const requestPath = [
  ...sources("server/gateway"),
  ...sources("server/metrics"),
  ...sources("server/middleware"),
  ...["routes/openai.ts", "routes/node-io.ts", "routes/reply-stream.ts", "routes/routing-headers.ts"].map((f) => path.join("server", f)),
  ...["chat/service.ts", "chat/reply-writer.ts", "chat/prompt.ts", "api-keys/counters.ts", "db/queries/sessions.ts"].map((f) => path.join("server", f)),
];

describe("the code a request runs", () => {
  it("finds each shape made per call where there is one", () => {
    const fixture = path.join("tests", "unit", "fixtures", "per-call-shapes.ts");
    expect(perCallShapes(fixture, { spreads: true })).toEqual([`${fixture}:5 generator`, `${fixture}:9 class`, `${fixture}:11 spread`, `${fixture}:13 accessor`]);
  });

  it("declares no generator function, class or object literal with accessors inside a function (server/, worker/, contracts/)", () => {
    const offending = [...sources("server"), ...sources("worker"), ...sources("contracts")].flatMap((f) => perCallShapes(f, { spreads: false }));
    expect(offending).toEqual([]);
  });

  it("adds nothing after a leading spread on the request path", () => {
    expect(requestPath.length).toBeGreaterThan(20);
    expect(requestPath.flatMap((f) => perCallShapes(f, { spreads: true }))).toEqual([]);
  });
});
