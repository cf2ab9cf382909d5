import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { classifyDatabaseError } from "../../server/db/failures.js";
import { AppError, errorBody } from "../../server/errors.js";
import { errorFields, errorFieldsWithStack, scrubMessage } from "../../server/error-report.js";
import { isPrivateAddress, privateUrlTarget } from "../../server/gateway/upstream-guard.js";
import { ClientIds, clientId } from "../../server/middleware/client-id.js";
import { sameOriginChanges } from "../../server/middleware/same-origin.js";

/** drizzle's error for a failed query, as it really looks: the SQL, then its parameters. */
function failedQuery(params: string[]) {
  const cause = Object.assign(new Error('new row for relation "messages" violates check constraint "c"'), { code: "23514" });
  return Object.assign(new Error(`Failed query: insert into "messages" values ($1, $2)\nparams: ${params.join(",")}`), { cause, query: "insert…", params });
}

describe("what an error may put in a log line", () => {
  it("keeps the driver's code and message and drops the query's parameters, in the message and in the stack", () => {
    const err = failedQuery(["the person's private words", "client-id-value"]);
    const fields = errorFieldsWithStack(err);
    expect(fields).toMatchObject({ err: 'new row for relation "messages" violates check constraint "c"', code: "23514" });
    expect(JSON.stringify(fields)).not.toMatch(/private words|client-id-value|params:/);
  });

  it("cuts a message that somehow carries parameters, and long ones", () => {
    expect(scrubMessage("boom\nparams: secret")).toBe("boom");
    expect(scrubMessage("Failed query: select 1")).toBe("a database query failed");
    expect(scrubMessage("x".repeat(1000)).length).toBeLessThan(320);
    expect(errorFields("plain")).toEqual({ err: "plain" });
  });
});

describe("which database failures are the database's state", () => {
  const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
  it.each([
    ["ECONNREFUSED", "unreachable"],
    ["CONNECTION_CLOSED", "unreachable"],
    ["57P01", "unreachable"],
    ["08006", "unreachable"],
    ["53100", "storage"],
    ["25006", "storage"],
    ["EROFS", "storage"],
  ])("%s is %s", (code, kind) => {
    expect(classifyDatabaseError(withCode(code))).toBe(kind);
    expect(classifyDatabaseError(Object.assign(new Error("Failed query: …"), { cause: withCode(code) }))).toBe(kind);
  });

  it("a file the engine cannot open is storage; a grant problem and a bug are not the database's state", () => {
    expect(classifyDatabaseError(withCode("42501", 'could not open file "base/5/5002": Permission denied'))).toBe("storage");
    expect(classifyDatabaseError(withCode("42501", "permission denied for table messages"))).toBeUndefined();
    expect(classifyDatabaseError(withCode("23505"))).toBeUndefined();
    expect(classifyDatabaseError(new TypeError("x is undefined"))).toBeUndefined();
  });
});

describe("where an admin's provider may point", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1"])(
    "%s is private",
    (ip) => expect(isPrivateAddress(ip)).toBe(true),
  );
  it.each(["8.8.8.8", "104.18.2.161", "2606:4700::6810:84e5"])("%s is public", (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it("refuses literal private hosts and localhost in a URL, and lets names through to the connection's check", () => {
    expect(privateUrlTarget("http://[::1]:8080/v1")).toMatch(/ALLOW_PRIVATE_UPSTREAMS/);
    expect(privateUrlTarget("http://localhost:11434/v1")).toMatch(/private/);
    expect(privateUrlTarget("https://openrouter.ai/api/v1")).toBeUndefined();
  });

  it("names only key-shaped variables, never Parley's own settings, unless listed", () => {
    const config = loadConfig({ PROVIDER_SECRET_NAMES: "MY_SPECIAL_SECRET, ANOTHER", ADMIN_TOKEN: "a".repeat(20), MY_SPECIAL_SECRET: "v", X_API_KEY: "k" });
    for (const ok of ["OPENROUTER_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "MY_SPECIAL_SECRET"]) expect(config.secretNameProblem(ok), ok).toBeUndefined();
    for (const no of ["ADMIN_TOKEN", "DATABASE_URL", "UPSTASH_REDIS_REST_TOKEN", "REDIS_URL", "PATH", "AWS_SECRET_ACCESS_KEY"]) {
      expect(config.secretNameProblem(no), no).toBeTruthy();
    }
    expect(config.readSecret("ADMIN_TOKEN")).toBeUndefined();
    expect(config.readSecret("X_API_KEY")).toBe("k");
    expect(config.allowPrivateUpstreams).toBe(false);
  });
});

describe("client ids", () => {
  const app = () => {
    const ids = new ClientIds();
    ids.setKey(ClientIds.newKey());
    const a = new Hono<{ Variables: { clientId: string } }>();
    a.onError((err, c) => (err instanceof AppError ? c.json(errorBody(err.code, err.message), err.status) : c.text("boom", 500)));
    a.use("*", clientId(ids, () => false));
    a.all("*", (c) => c.text(c.var.clientId));
    return { a, ids };
  };

  it("are given on a GET, signed, and recognised after; a forged signature is not", async () => {
    const { a, ids } = app();
    const first = await a.request("/");
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    const id = await first.text();
    expect(cookie).toBe(`parley_client=${ids.sign(id)}`);
    const again = await a.request("/", { method: "POST", headers: { cookie } });
    expect([again.status, await again.text()]).toEqual([200, id]);
    const forged = await a.request("/", { method: "POST", headers: { cookie: `parley_client=${id}.${"A".repeat(43)}` } });
    expect(forged.status).toBe(403);
  });

  it("are never given on a change, and an unsigned id from before signing is signed on the next page load", async () => {
    const { a, ids } = app();
    const post = await a.request("/", { method: "POST" });
    expect(post.status).toBe(403);
    expect(post.headers.get("set-cookie")).toBeNull();
    const legacy = "L".repeat(32);
    const page = await a.request("/", { headers: { cookie: `parley_client=${legacy}` } });
    expect(await page.text()).toBe(legacy);
    expect(page.headers.get("set-cookie")).toContain(ids.sign(legacy));
  });
});

describe("same-origin changes", () => {
  const app = new Hono();
  app.onError((err, c) => (err instanceof AppError ? c.json(errorBody(err.code, err.message), err.status) : c.text("boom", 500)));
  app.use("*", sameOriginChanges(() => ["parley.example.com"]));
  app.all("*", (c) => c.text("ok"));
  // As the HTTP server sees a request: its body announced by Content-Length.
  const post = (headers: Record<string, string>, body = "{}") =>
    app.request("/x", { method: "POST", headers: { "content-type": "application/json", "content-length": String(body.length), ...headers }, body });

  it("passes our pages and scripts, and refuses other sites and other bodies", async () => {
    expect((await post({ "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await post({})).status).toBe(200); // a script
    expect((await post({ origin: "https://parley.example.com" })).status).toBe(200);
    expect((await post({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ origin: "https://evil.example" })).status).toBe(403);
    expect((await post({ "content-type": "text/plain" })).status).toBe(415);
    expect((await post({ "content-type": "application/json; charset=utf-8" })).status).toBe(200);
    expect((await app.request("/x", { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(200); // reads are not changes
  });
});
