import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HAIKU, registryReloaded, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import { cookieClient, createSession, startParley } from "../support/parley.js";
import { freePort } from "../support/postgres.js";
import { ScriptedUpstream } from "../support/upstream.js";

const ADMIN_TOKEN = "integration-admin-token-0123456789";
const OPENROUTER_KEY = "sk-or-very-secret-value";
const ROOT = path.resolve(import.meta.dirname, "../..");

let stack: GatewayStack;
let other: ScriptedUpstream;
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  [stack, other] = await Promise.all([
    startGatewayStack({ ADMIN_TOKEN, OPENROUTER_API_KEY: OPENROUTER_KEY }),
    ScriptedUpstream.start(),
  ]);
  other.setDefault({ kind: "stream", chunks: ["From the ", "other upstream."], usage: { prompt_tokens: 100, completion_tokens: 10 } });
});
afterAll(async () => {
  await stack?.stop();
  await other?.close();
});

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };

/** An admin API call with the Bearer token, as a script would make it. */
async function call<T = any>(method: string, p: string, body?: unknown) {
  const res = await fetch(`${stack.parley.url}/api/admin${p}`, {
    method,
    headers: { ...bearer, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // Whatever the endpoint, a provider's key is never in an answer.
  expect(text).not.toContain(OPENROUTER_KEY);
  return { status: res.status, body: JSON.parse(text) as T, headers: res.headers };
}

/** Sends a chat message and says which model answered (x-parley-model), reading the reply to its end. */
async function chatModel(scenario = "refund-request"): Promise<string | null> {
  const client = stack.parley.client();
  const session = await createSession(client, scenario);
  const res = await client.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello" }) });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get("x-parley-model");
}

const validProvider = (over: Record<string, unknown> = {}) => ({
  name: "other",
  displayName: "Other upstream",
  kind: "openai_compatible",
  baseUrl: other.baseUrl,
  authScheme: "none",
  ...over,
});

const ENDPOINTS: [string, string][] = [
  ["GET", "/session"],
  ["POST", "/logout"],
  ["GET", "/providers"],
  ["POST", "/providers"],
  ["GET", "/providers/00000000-0000-4000-8000-000000000000"],
  ["PATCH", "/providers/00000000-0000-4000-8000-000000000000"],
  ["DELETE", "/providers/00000000-0000-4000-8000-000000000000"],
  ["POST", "/providers/00000000-0000-4000-8000-000000000000/test"],
  ["GET", "/providers/00000000-0000-4000-8000-000000000000/upstream-models"],
  ["GET", "/models"],
  ["POST", "/models"],
  ["PATCH", "/models/00000000-0000-4000-8000-000000000000"],
  ["POST", "/models/00000000-0000-4000-8000-000000000000/move"],
  ["DELETE", "/models/00000000-0000-4000-8000-000000000000"],
  ["GET", "/scenarios"],
  ["POST", "/scenarios"],
  ["PATCH", "/scenarios/00000000-0000-4000-8000-000000000000"],
  ["DELETE", "/scenarios/00000000-0000-4000-8000-000000000000"],
  ["GET", "/health"],
  ["GET", "/usage"],
  ["GET", "/requests"],
  ["GET", "/no-such-thing"],
];

describe("admin API access", () => {
  it("every endpoint refuses without credentials, with a wrong token, or a made-up cookie — all alike", async () => {
    const bodies = new Set<string>();
    for (const [i, [method, p]] of ENDPOINTS.entries()) {
      // Wrong tokens count against an address's failed logins: each endpoint is tried from its own loopback address.
      const from = new Agent({ localAddress: `127.0.1.${i + 1}` });
      const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token" }, { authorization: "Basic YWRtaW46YWRtaW4=" }, { cookie: "parley_admin=forged" }];
      for (const headers of attempts) {
        const res = await undiciFetch(`${stack.parley.url}/api/admin${p}`, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          body: method === "GET" ? undefined : "{}",
          dispatcher: from,
        });
        // POST /logout with nothing to end is harmless and says so; everything else is a 401.
        if (p === "/logout") {
          expect(res.status, `${method} ${p}`).toBe(200);
          continue;
        }
        expect(res.status, `${method} ${p} ${JSON.stringify(headers)}`).toBe(401);
        bodies.add(await res.text());
      }
      await from.close();
    }
    // One body for all: nothing tells which routes exist or which part was wrong.
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!)).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("a login gives an httpOnly, SameSite=Strict cookie with an expiry; changes need its CSRF token; logout ends it", async () => {
    const admin = cookieClient(stack.parley.url);
    const wrong = await admin.json<ErrorBody>("/api/admin/login", { method: "POST", body: JSON.stringify({ token: "nope" }) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("wrong_token");

    const login = await admin.fetch("/api/admin/login", { method: "POST", body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^parley_admin=[\w-]{32};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/api\/admin/);
    const expires = Date.parse(/Expires=([^;]+)/i.exec(setCookie)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(11 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(12 * 3600_000 + 5000);
    const { csrfToken } = (await login.json()) as { csrfToken: string };

    expect((await admin.json("/api/admin/providers")).status).toBe(200);
    expect((await admin.json("/api/admin/session")).body).toMatchObject({ csrfToken });

    // A change with the cookie alone (what a forged cross-site form would send) is refused.
    const forged = await admin.json<ErrorBody>("/api/admin/providers", { method: "POST", body: JSON.stringify(validProvider({ name: "csrf" })) });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe("csrf_failed");
    const wrongCsrf = await admin.json("/api/admin/providers", {
      method: "POST",
      headers: { "x-csrf-token": "x".repeat(32) },
      body: JSON.stringify(validProvider({ name: "csrf" })),
    });
    expect(wrongCsrf.status).toBe(403);
    expect((await call("GET", "/providers")).body.providers.some((p: { name: string }) => p.name === "csrf")).toBe(false);

    const withCsrf = await admin.json<{ provider: { id: string } }>("/api/admin/providers", {
      method: "POST",
      headers: { "x-csrf-token": csrfToken },
      body: JSON.stringify(validProvider({ name: "csrf-ok" })),
    });
    expect(withCsrf.status).toBe(201);
    expect((await admin.json("/api/admin/providers/" + withCsrf.body.provider.id, { method: "DELETE", headers: { "x-csrf-token": csrfToken } })).status).toBe(200);

    expect((await admin.json("/api/admin/logout", { method: "POST" })).status).toBe(200);
    expect((await admin.json("/api/admin/providers")).status).toBe(401);
  });
});

describe("providers", () => {
  it("create, read, edit, deactivate and delete round trip; the key is reported present or not, never shown", async () => {
    const created = await call("POST", "/providers", validProvider({ name: "round-trip", authScheme: "bearer", secretName: "ROUND_TRIP_API_KEY" }));
    expect(created.status).toBe(201);
    expect(created.body.provider).toMatchObject({
      name: "round-trip",
      kind: "openai_compatible",
      authHeaderName: "Authorization",
      isActive: true,
      extraHeaders: {},
      secretPresent: false,
      health: { state: "misconfigured", lastError: "The environment variable ROUND_TRIP_API_KEY is not set" },
    });
    const id = created.body.provider.id as string;

    const edited = await call("PATCH", `/providers/${id}`, { displayName: "Renamed", extraHeaders: { "X-Org": "parley" } });
    expect(edited.status).toBe(200);
    expect(edited.body.provider).toMatchObject({ displayName: "Renamed", name: "round-trip", extraHeaders: { "X-Org": "parley" } });
    expect((await call("GET", `/providers/${id}`)).body.provider.displayName).toBe("Renamed");

    const off = await call("PATCH", `/providers/${id}`, { isActive: false });
    expect(off.body.provider).toMatchObject({ isActive: false, health: { state: "inactive" } });

    const list = await call("GET", "/providers");
    const openrouter = list.body.providers.find((p: { name: string }) => p.name === "openrouter");
    expect(openrouter).toMatchObject({ secretName: "OPENROUTER_API_KEY", secretPresent: true, effectiveBaseUrl: stack.upstream.baseUrl });

    expect((await call("DELETE", `/providers/${id}`)).status).toBe(200);
    expect((await call("GET", `/providers/${id}`)).status).toBe(404);
  });

  it("refuses bad input with a message per field", async () => {
    const bad = await call<ErrorBody>("POST", "/providers", {
      name: "Bad Name",
      displayName: "",
      kind: "carrier-pigeon",
      baseUrl: "javascript:alert(1)",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect(Object.keys(bad.body.error.fields!).sort()).toEqual(["baseUrl", "displayName", "kind", "name"]);
    expect(bad.body.error.fields!.baseUrl).toBe("Must be an http:// or https:// URL");

    for (const header of ["Authorization", "authorization", "Content-Type", "X-Api-Key"]) {
      const res = await call<ErrorBody>(
        "POST",
        "/providers",
        validProvider({ name: "hdr", authScheme: "header", authHeaderName: "X-Api-Key", secretName: "K_API_KEY", extraHeaders: { [header]: "x" } }),
      );
      expect(res.status, header).toBe(400);
      expect(res.body.error.fields!.extraHeaders).toContain("cannot be overridden");
    }
    const badSecret = await call<ErrorBody>("POST", "/providers", validProvider({ name: "s", authScheme: "bearer", secretName: "sk-live-pasted-key" }));
    expect(badSecret.body.error.fields!.secretName).toMatch(/environment variable name/);
    const noSecret = await call<ErrorBody>("POST", "/providers", validProvider({ name: "s", authScheme: "bearer" }));
    expect(noSecret.body.error.fields!.secretName).toMatch(/Name the environment variable/);
    const unknownField = await call<ErrorBody>("PATCH", `/providers/${(await call("GET", "/providers")).body.providers[0].id}`, { apiKey: "sk-1" });
    expect(unknownField.status).toBe(400);

    expect((await call("POST", "/providers", validProvider({ name: "dup" }))).status).toBe(201);
    const dup = await call<ErrorBody>("POST", "/providers", validProvider({ name: "dup" }));
    expect(dup.status).toBe(409);
    expect(dup.body.error.fields).toEqual({ name: 'Another provider is already named "dup"' });

    const malformed = await fetch(`${stack.parley.url}/api/admin/providers`, { method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as ErrorBody).error.code).toBe("invalid_json");
  });

  it("a provider with models cannot be deleted; Test sends one token and reports status and latency", async () => {
    const p = (await call("POST", "/providers", validProvider({ name: "tested" }))).body.provider;
    const m = (await call("POST", "/models", { providerId: p.id, modelKey: "other/tested", displayName: "Tested", task: "roleplay", priority: 500 })).body.model;

    const refused = await call<ErrorBody>("DELETE", `/providers/${p.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "provider_in_use", message: expect.stringContaining("still has 1 model") });

    const before = other.requests.length;
    const ok = await call("POST", `/providers/${p.id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ ok: true, status: 200, model: "other/tested" });
    expect(ok.body.result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(other.requests[before]!.body).toMatchObject({ model: "other/tested", max_tokens: 1 });

    other.enqueue({ kind: "status", status: 401, body: { error: { message: "invalid key" } } });
    const bad = await call("POST", `/providers/${p.id}/test`);
    expect(bad.body.result).toMatchObject({ ok: false, status: 401, error: "invalid key" });
    expect(bad.body.provider.health).toMatchObject({ state: "misconfigured", lastError: "invalid key" });
    // A later success clears it.
    expect((await call("POST", `/providers/${p.id}/test`)).body.provider.health.state).toBe("healthy");

    expect((await call("DELETE", `/models/${m.id}`)).status).toBe(200);
    expect((await call("DELETE", `/providers/${p.id}`)).status).toBe(200);
  });

  it("Browse lists the provider's /models with prices per million tokens, sending the provider's key", async () => {
    const openrouter = (await call("GET", "/providers")).body.providers.find((p: { name: string }) => p.name === "openrouter");
    const before = stack.upstream.modelListings.length;
    const res = await call("GET", `/providers/${openrouter.id}/upstream-models`);
    expect(res.status).toBe(200);
    expect(res.body.models[0]).toEqual({ id: "scripted/lively-7b", name: "Scripted: Lively 7B", contextLength: 32768, inputPricePerMtok: 2, outputPricePerMtok: 6 });
    expect(stack.upstream.modelListings[before]!.authorization).toBe(`Bearer ${OPENROUTER_KEY}`);

    const dead = (await call("POST", "/providers", validProvider({ name: "dead", baseUrl: `http://127.0.0.1:${await freePort()}/v1` }))).body.provider;
    const unreachable = await call<ErrorBody>("GET", `/providers/${dead.id}/upstream-models`);
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error.message).toMatch(/cannot be reached: connection error \(ECONNREFUSED\)/);
    await call("DELETE", `/providers/${dead.id}`);
  });
});

describe("OpenRouter provider preferences", () => {
  it("are sent as OpenRouter's provider object with every request of the row, and refused on another kind", async () => {
    const providers = (await call<{ providers: { id: string; name: string }[] }>("GET", "/providers")).body.providers;
    const openrouter = providers.find((p) => p.name === "openrouter")!;
    const prefs = { order: ["anthropic", "amazon-bedrock"], allow_fallbacks: false, data_collection: "deny", sort: "price", max_price: { prompt: 1, completion: 5 } };
    const bad = await call<ErrorBody>("PATCH", `/providers/${openrouter.id}`, { routingPreferences: { sort: "cheapest" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields!["routingPreferences.sort"]).toContain("price");
    expect((await call("PATCH", `/providers/${openrouter.id}`, { routingPreferences: prefs })).status).toBe(200);
    await registryReloaded(stack.parley, stack.db.sql);
    await chatModel();
    expect(stack.upstream.requests.at(-1)!.body.provider).toEqual(prefs);
    expect((await call("PATCH", `/providers/${openrouter.id}`, { routingPreferences: null })).status).toBe(200);
    await registryReloaded(stack.parley, stack.db.sql);
    await chatModel();
    expect(stack.upstream.requests.at(-1)!.body.provider).toBeUndefined();

    const created = await call<ErrorBody>("POST", "/providers", validProvider({ name: "prefs-elsewhere", routingPreferences: { sort: "price" } }));
    expect(created.status).toBe(400);
    expect(created.body.error.fields!.routingPreferences).toMatch(/only an OpenRouter row/);
  });
});

describe("models", () => {
  it("refuses an unknown task, a negative price, a duplicate key, with the field named", async () => {
    const openrouter = (await call("GET", "/providers")).body.providers.find((p: { name: string }) => p.name === "openrouter");
    const base = { providerId: openrouter.id, modelKey: "x/new", displayName: "New", task: "roleplay" };
    const task = await call<ErrorBody>("POST", "/models", { ...base, task: "poetry" });
    expect(task.status).toBe(400);
    expect(task.body.error.fields!.task).toBe('Unknown task "poetry"; choose one of coach, enhance, evaluate, roleplay');
    const price = await call<ErrorBody>("POST", "/models", { ...base, inputPricePerMtok: -1 });
    expect(price.body.error.fields).toEqual({ inputPricePerMtok: "A price cannot be negative" });
    const dup = await call<ErrorBody>("POST", "/models", { ...base, modelKey: HAIKU });
    expect(dup.body.error.fields).toEqual({ modelKey: `This provider already has "${HAIKU}" for the roleplay task` });
    const overrides = await call<ErrorBody>("POST", "/models", { ...base, paramOverrides: { roleplay: { temperature: 5 } } });
    expect(overrides.body.error.fields!["paramOverrides.roleplay.temperature"]).toBe("0 to 2");
  });

  it("a change is used by the very next chat request: a new default answers, deactivating it hands back", async () => {
    expect(await chatModel()).toBe(HAIKU);
    const p = (await call("POST", "/providers", validProvider({ name: "next-request" }))).body.provider;
    const created = await call("POST", "/models", {
      providerId: p.id,
      modelKey: "other/next",
      displayName: "Next",
      task: "roleplay",
      isDefault: true,
      inputPricePerMtok: 1,
      outputPricePerMtok: 2,
      paramOverrides: { roleplay: { temperature: 0.3 } },
    });
    expect(created.status).toBe(201);
    // No wait, no poll: the answer to the change comes once this instance routes by it.
    expect(await chatModel()).toBe("other/next");
    expect(other.requests.at(-1)!.body).toMatchObject({ model: "other/next", temperature: 0.3 });

    const groups = (await call("GET", "/models")).body.groups as { task: string; models: { modelKey: string; isDefault: boolean; priority: number }[] }[];
    const roleplay = groups.find((g) => g.task === "roleplay")!.models;
    expect(roleplay[0]).toMatchObject({ modelKey: "other/next", isDefault: true, priority: 10 });
    expect(roleplay.filter((m) => m.isDefault)).toHaveLength(1);

    // Below the local worker (not running here, so passed by) and below Haiku: Haiku answers.
    await call("POST", `/models/${created.body.model.id}/move`, { direction: "down" });
    const moved = await call("POST", `/models/${created.body.model.id}/move`, { direction: "down" });
    expect(moved.body.groups.find((g: { task: string }) => g.task === "roleplay").models.map((m: { modelKey: string }) => m.modelKey).slice(0, 3)).toEqual([
      "local",
      HAIKU,
      "other/next",
    ]);
    expect(await chatModel()).toBe(HAIKU);
    await call("PATCH", `/models/${created.body.model.id}`, { isDefault: true });
    expect(await chatModel()).toBe("other/next");

    await call("PATCH", `/models/${created.body.model.id}`, { isActive: false });
    expect(await chatModel()).toBe(HAIKU);
    await call("PATCH", `/models/${created.body.model.id}`, { isActive: true, displayName: "Next again" });
    expect(await chatModel()).toBe("other/next");
    await call("DELETE", `/models/${created.body.model.id}`);
    expect(await chatModel()).toBe(HAIKU);
    await call("DELETE", `/providers/${p.id}`);
  });

  it("reaches another instance on the same Postgres through NOTIFY", async () => {
    const second = await startParley({ env: { DATABASE_URL: stack.db.url, OPENROUTER_BASE_URL: stack.upstream.baseUrl, OPENROUTER_API_KEY: OPENROUTER_KEY, ADMIN_TOKEN, REGISTRY_POLL_MS: "600000" } });
    try {
      const p = (await call("POST", "/providers", validProvider({ name: "shared" }))).body.provider;
      const m = (await call("POST", "/models", { providerId: p.id, modelKey: "other/shared", displayName: "Shared", task: "roleplay", isDefault: true })).body.model;
      await registryReloaded(second, stack.db.sql);
      const client = second.client();
      const session = await createSession(client);
      const res = await client.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Hi" }) });
      await res.text();
      expect(res.headers.get("x-parley-model")).toBe("other/shared");
      await call("DELETE", `/models/${m.id}`);
      await call("DELETE", `/providers/${p.id}`);
    } finally {
      await second.stop();
    }
  });
});

describe("scenarios", () => {
  const scenario = {
    slug: "admin-made",
    title: "Made by an admin",
    characterName: "Riley",
    description: "A <b>test</b> scenario.",
    category: "practice",
    openingMessage: "Hi, I'm Riley.",
    avatarStyle: "bottts",
    avatarSeed: "riley",
    systemPrompt: "SECRET-PROMPT: you are Riley.",
  };

  it("create (hidden), publish, edit, and the private prompt stays out of the public API", async () => {
    const created = await call("POST", "/scenarios", scenario);
    expect(created.status).toBe(201);
    expect(created.body.scenario).toMatchObject({ ...scenario, isActive: false, tags: [], contentRating: "general", task: null, modelKey: null });
    const id = created.body.scenario.id as string;
    const publicList = async () => (await (await fetch(`${stack.parley.url}/api/scenarios`)).json()) as { scenarios: { slug: string }[] };
    expect((await publicList()).scenarios.map((s) => s.slug)).not.toContain("admin-made");

    expect((await call("PATCH", `/scenarios/${id}`, { isActive: true, contentRating: "teen", tags: ["work"] })).status).toBe(200);
    expect((await publicList()).scenarios.map((s) => s.slug)).toContain("admin-made");
    const pub = await (await fetch(`${stack.parley.url}/api/scenarios/admin-made`)).text();
    expect(pub).toContain("Made by an admin");
    expect(pub).not.toContain("SECRET-PROMPT");

    const bad = await call<ErrorBody>("PATCH", `/scenarios/${id}`, { slug: "Not A Slug", avatarStyle: "clip-art", task: "poetry" });
    expect(Object.keys(bad.body.error.fields!).sort()).toEqual(["avatarStyle", "slug"]);
    const task = await call<ErrorBody>("PATCH", `/scenarios/${id}`, { task: "poetry", modelKey: "no/such" });
    expect(task.body.error.fields).toEqual({ task: 'Unknown task "poetry"; choose one of coach, enhance, evaluate, roleplay', modelKey: 'No model has the key "no/such"' });
    const dup = await call<ErrorBody>("PATCH", `/scenarios/${id}`, { slug: "refund-request" });
    expect(dup.body.error.fields).toEqual({ slug: 'Another scenario already uses "refund-request"' });
  });

  it("a scenario's model override is used by its chats; deleting it asks first when it has conversations", async () => {
    const p = (await call("POST", "/providers", validProvider({ name: "for-scenario" }))).body.provider;
    await call("POST", "/models", { providerId: p.id, modelKey: "other/scenario-only", displayName: "Scenario only", task: "roleplay", priority: 999 });
    const id = (await call("GET", "/scenarios")).body.scenarios.find((s: { slug: string }) => s.slug === "admin-made").id;
    await call("PATCH", `/scenarios/${id}`, { modelKey: "other/scenario-only" });
    expect(await chatModel("admin-made")).toBe("other/scenario-only");
    expect(other.requests.at(-1)!.body.messages[0]).toEqual({ role: "system", content: "SECRET-PROMPT: you are Riley." });
    expect(await chatModel("refund-request")).not.toBe("other/scenario-only");

    const refused = await call<ErrorBody>("DELETE", `/scenarios/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("scenario_in_use");
    expect((await call("GET", "/scenarios")).body.scenarios.find((s: { id: string }) => s.id === id).sessions).toBe(1);
    const deleted = await call("DELETE", `/scenarios/${id}?withSessions=true`);
    expect(deleted.body).toEqual({ deleted: id, sessions: 1 });
    expect((await fetch(`${stack.parley.url}/api/scenarios/admin-made`)).status).toBe(404);
  });
});

describe("health and usage", () => {
  it("Health lists each model's circuit and each provider's state; Usage counts requests, tokens, cost and fallbacks", async () => {
    const health = await call("GET", "/health");
    expect(health.body.database).toBe("postgres");
    expect(health.body.circuits.find((c: { model: string; task: string }) => c.model === HAIKU && c.task === "roleplay")).toMatchObject({ provider: "openrouter", state: "closed" });
    expect(health.body.providers.find((p: { name: string }) => p.name === "openrouter").health.state).toBe("healthy");

    // One request that falls over from a failing model to the next.
    stack.upstream.forModel(HAIKU, { kind: "status", status: 503 });
    const client = stack.parley.client();
    const session = await createSession(client);
    const res = await client.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Hi" }) });
    await res.text();
    const served = res.headers.get("x-parley-model");
    expect(served).not.toBe(HAIKU);

    // The request log is written in batches (every 50 ms here).
    const requests = await vi.waitFor(
      async () => {
        const rows = (await call("GET", `/requests?session=${session}`)).body.requests;
        if (rows.length !== 1) throw new Error(`${rows.length} rows for the session so far`);
        return rows;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(requests[0]).toMatchObject({ sessionId: session, status: "ok" });
    expect(requests[0].attempts.map((a: { model: string; status: number }) => [a.model, a.status])).toEqual([
      [HAIKU, 503],
      [served, 200],
    ]);
    expect(requests[0]).not.toHaveProperty("clientId");

    const usage = await call("GET", "/usage?window=hour");
    expect(usage.body.totals.requests).toBeGreaterThanOrEqual(1);
    expect(usage.body.totals.fallbacks).toBeGreaterThanOrEqual(1);
    expect(usage.body.series).toHaveLength(13);
    // A model deleted since still has its requests counted, under its key.
    expect(usage.body.byModel.find((m: { model: string }) => m.model === "other/next")).toMatchObject({ provider: "next-request" });
    expect(usage.body.byModel.find((m: { model: string }) => m.model === served).requests).toBeGreaterThanOrEqual(1);
    expect((await call<ErrorBody>("GET", "/usage?window=year")).body.error.fields).toEqual({ window: "Choose hour, day or week" });
    expect((await call<ErrorBody>("GET", "/requests?session=abc")).status).toBe(400);
  });
});

describe("the generated admin token", () => {
  it("is printed once on the first start, kept across restarts, and replaced by npm run admin:token", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "parley-admin-"));
    try {
      const first = await startParley({ dataDir });
      const line = first.logs.findIndex((l) => l.includes("admin token (shown this once"));
      expect(line).toBeGreaterThanOrEqual(0);
      const token = first.logs[line + 2]!.trim();
      expect(token).toMatch(/^[\w-]{32}$/);
      // Printed to the console, never in a structured log line.
      expect(first.logs.filter((l) => l.includes(token))).toHaveLength(1);
      const ok = await fetch(`${first.url}/api/admin/providers`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      await first.stop();

      const second = await startParley({ dataDir });
      expect(second.logs.some((l) => l.includes("shown this once"))).toBe(false);
      expect((await fetch(`${second.url}/api/admin/providers`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await second.stop();

      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin-token.ts"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, PARLEY_DATA_DIR: dataDir },
      });
      const fresh = /^\s{4}([\w-]{32})$/m.exec(stdout)![1]!;
      const third = await startParley({ dataDir });
      expect((await fetch(`${third.url}/api/admin/providers`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await fetch(`${third.url}/api/admin/providers`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
      await third.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("failed logins", () => {
  it("are limited per address: the eleventh wrong token in 15 min is answered 429 with Retry-After", async () => {
    // From another loopback address (127.0.0.2), so the count starts at zero and 127.0.0.1 stays free.
    const from = new Agent({ localAddress: "127.0.0.2" });
    const attempt = (token: string) =>
      undiciFetch(`${stack.parley.url}/api/admin/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
        dispatcher: from,
      });
    for (let i = 0; i < 10; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    const limited = await attempt("wrong-again");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(800);
    expect(((await limited.json()) as ErrorBody).error.code).toBe("too_many_attempts");
    // The right token too: guessing must not be able to test tokens while locked out.
    expect((await attempt(ADMIN_TOKEN)).status).toBe(429);
    // Another address may still log in, and scripts with the Bearer token are not affected.
    const elsewhere = await fetch(`${stack.parley.url}/api/admin/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(elsewhere.status).toBe(200);
    expect((await call("GET", "/providers")).status).toBe(200);
    await from.close();
  });

  it("count wrong Bearer tokens on any admin route too, in the same budget as the login form", async () => {
    const from = new Agent({ localAddress: "127.0.0.3" });
    const withBearer = (token: string, p = "/providers") =>
      undiciFetch(`${stack.parley.url}/api/admin${p}`, { headers: { authorization: `Bearer ${token}` }, dispatcher: from });
    // Right tokens are not counted: a script may call as often as it likes.
    for (let i = 0; i < 15; i++) expect((await withBearer(ADMIN_TOKEN)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await withBearer(`guess-${i}`, i % 2 ? "/health" : "/models")).status).toBe(401);
    const limited = await withBearer("guess-again");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(800);
    // Locked for the form as well, and for the right token: no guess can be tested while locked.
    const login = await undiciFetch(`${stack.parley.url}/api/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: ADMIN_TOKEN }),
      dispatcher: from,
    });
    expect(login.status).toBe(429);
    expect((await withBearer(ADMIN_TOKEN)).status).toBe(429);
    await from.close();
  });

  it("count each try before checking it, so parallel guesses get no more than the budget", async () => {
    const from = new Agent({ localAddress: "127.0.0.4", connections: 50 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        undiciFetch(`${stack.parley.url}/api/admin/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: `parallel-${i}` }),
          dispatcher: from,
        }).then(async (r) => (await r.body?.cancel(), r.status)),
      ),
    );
    expect(results.filter((s) => s === 401)).toHaveLength(10);
    expect(results.filter((s) => s === 429)).toHaveLength(190);
    await from.close();
  });
});

describe("a provider's failover rules", () => {
  it("override what a status leads to: a 500 that stops instead of going to the next model", async () => {
    const providers = (await call<{ providers: { id: string; name: string }[] }>("GET", "/providers")).body.providers;
    const openrouter = providers.find((p) => p.name === "openrouter")!;
    const bad = await call<ErrorBody>("PATCH", `/providers/${openrouter.id}`, { failoverRules: { "5xx": "stop" } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields!).some((k) => k.startsWith("failoverRules"))).toBe(true);
    expect((await call("PATCH", `/providers/${openrouter.id}`, { failoverRules: { "500": "stop" } })).status).toBe(200);
    await registryReloaded(stack.parley, stack.db.sql);
    const before = stack.upstream.requests.length;
    stack.upstream.enqueue({ kind: "status", status: 500 });
    await chatModel();
    // One try only: by default a 500 goes on to the next model.
    expect(stack.upstream.requests.length - before).toBe(1);
    expect((await call("PATCH", `/providers/${openrouter.id}`, { failoverRules: {} })).status).toBe(200);
    await registryReloaded(stack.parley, stack.db.sql);
    stack.upstream.enqueue({ kind: "status", status: 500 });
    const mark = stack.upstream.requests.length;
    expect(await chatModel()).toBeTruthy();
    expect(stack.upstream.requests.length - mark).toBe(2);
  });
});
