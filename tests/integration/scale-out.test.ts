import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { clientIdSigningKey } from "../../server/db/queries/admin-auth.js";
import { CLIENT_COOKIE, ClientIds } from "../../server/middleware/client-id.js";
import { createTestDatabase } from "../support/db.js";
import { writeLongThread } from "../support/long-thread.js";
import { cookieClient, createSession, readSse, startParley, type ParleyProcess } from "../support/parley.js";
import { startTempRedis, type TempRedis } from "../support/redis.js";
import { UpstashBridge } from "../support/upstash-bridge.js";
import { ScriptedUpstream } from "../support/upstream.js";

const ADMIN_TOKEN = "scale-out-admin-token-0123456789";
const API_KEY = "sk-parley-scale-out";

type Health = {
  status: string;
  instance: string;
  database: { kind: string; reachable: boolean };
  rateLimit: { store: string; active: string; degraded: boolean };
};

let upstream: ScriptedUpstream;
let other: ScriptedUpstream;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: TempRedis;
let a: ParleyProcess;
let b: ParleyProcess;

const instanceEnv = (id: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  REDIS_URL: redis.url,
  OPENROUTER_BASE_URL: upstream.baseUrl,
  OPENROUTER_API_KEY: "sk-or-scale-out",
  ADMIN_TOKEN,
  PARLEY_API_KEYS: API_KEY,
  PARLEY_INSTANCE_ID: id,
  // Polling out of the way: a change must reach the other instance by NOTIFY, at once.
  REGISTRY_POLL_MS: "600000",
  ...extra,
});

beforeAll(async () => {
  [upstream, other, db, redis] = await Promise.all([ScriptedUpstream.start(), ScriptedUpstream.start(), createTestDatabase(inject("postgresUrl")), startTempRedis()]);
  upstream.setDefault({ kind: "stream", chunks: ["Shared ", "reply."] });
  other.setDefault({ kind: "stream", chunks: ["From the model added on A."] });
  // Started together, as a deployment would: migrations and seeding must not trip over each other.
  [a, b] = await Promise.all([startParley({ env: instanceEnv("instance-a") }), startParley({ env: instanceEnv("instance-b") })]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([upstream?.close(), other?.close(), redis?.close()]);
  await db?.drop();
});

const health = async (p: ParleyProcess) => (await (await fetch(`${p.url}/api/health`)).json()) as Health;

/** Sends a chat message through `instance` with the client's cookie; reads the reply to its end. */
async function send(client: ReturnType<typeof cookieClient>, instance: ParleyProcess, session: string, content: string) {
  const res = await client.fetch(`${instance.url}/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) });
  const body = res.status === 200 ? await readSse(res) : await res.json();
  return { res, body };
}

describe("two instances on one Postgres and one Redis", () => {
  it("name themselves, their database and their rate-limit store in /api/health", async () => {
    const [ha, hb] = await Promise.all([health(a), health(b)]);
    expect(ha).toMatchObject({ status: "ok", instance: "instance-a", database: { kind: "postgres", reachable: true }, rateLimit: { store: "redis", active: "redis", degraded: false } });
    expect(hb).toMatchObject({ status: "ok", instance: "instance-b", database: { kind: "postgres" }, rateLimit: { store: "redis" } });
  });

  it("share one window: 30 messages from one client over both get exactly 20 through, in one session either can continue", async () => {
    const client = cookieClient(a.url);
    const session = await createSession(client); // created on A
    const outcomes: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 30; i++) {
      const { res, body } = await send(client, i % 2 ? b : a, session, `Message ${i}`);
      outcomes.push(res.status);
      if (res.status === 200) expect(body.at(-1)).toMatchObject({ event: "done" });
      if (res.status === 429) {
        refused = res;
        expect(body).toEqual({ error: { code: "rate_limited", message: expect.stringMatching(/at most 20 in a minute\. Try again in \d+ s\./) } });
      }
    }
    expect(outcomes.filter((s) => s === 200)).toHaveLength(20);
    expect(outcomes.filter((s) => s === 429)).toHaveLength(10);
    expect(outcomes.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(refused!.headers.get("ratelimit-limit")).toBe("20");
    expect(refused!.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused!.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(Number(refused!.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(Number(refused!.headers.get("retry-after")));

    // The conversation is one, whichever instance is asked: 20 exchanges after the opening line,
    // and nothing of the 10 refused messages (they were refused before anything was stored).
    for (const p of [a, b]) {
      const { body } = await client.json<{ session: { messages: { role: string; content: string }[] } }>(`${p.url}/api/sessions/${session}`);
      const users = body.session.messages.filter((m) => m.role === "user");
      expect(users).toHaveLength(20);
      expect(users.at(-1)!.content).toBe("Message 19");
      expect(body.session.messages.filter((m) => m.role === "assistant" && m.content === "Shared reply.")).toHaveLength(20);
    }
  });

  it("allow one reply at a time per session across instances", async () => {
    const client = cookieClient(a.url);
    const session = await createSession(client);
    upstream.enqueue({ kind: "stream", chunks: ["Slow ", "reply."], pauseAfter: 1 });
    const first = await client.fetch(`${a.url}/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "First" }) });
    expect(first.status).toBe(200);
    const second = await send(client, b, session, "Second, meanwhile");
    expect(second.res.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: "reply_in_progress" } });
    upstream.resume();
    expect((await readSse(first)).at(-1)).toMatchObject({ event: "done" });
    expect((await send(client, b, session, "Now it is my turn")).res.status).toBe(200);
  });

  it("never read a thread ahead while a reply streams on the other, so the next prompt carries the reply's whole text", async () => {
    // Longer than a page, so opening it reads its history ahead; written straight to the database.
    const handle = await openDatabase({ databaseUrl: db.url, dataDir: mkdtempSync(path.join(tmpdir(), "parley-scale-")) });
    const ids = new ClientIds();
    ids.setKey(await clientIdSigningKey(handle.db, ClientIds.newKey));
    const clientId = "a".repeat(32);
    const session = await writeLongThread(handle.db, clientId, 60);
    await handle.close();
    const client = cookieClient(a.url, `${CLIENT_COOKIE}=${ids.sign(clientId)}`);
    upstream.enqueue({ kind: "stream", chunks: ["Half ", "and the rest."], pauseAfter: 1 });
    const first = await client.fetch(`${a.url}/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Tell me" }) });
    expect(first.status).toBe(200);
    // B opens the conversation while A's reply is saved halfway (A saves a streaming reply every 2 s).
    const lastShown = async () => (await client.json<{ session: { messages: { content: string }[] } }>(`${b.url}/api/sessions/${session}`)).body.session.messages.at(-1)?.content;
    await expect.poll(lastShown, { timeout: 15_000 }).toBe("Half ");
    upstream.resume();
    expect((await readSse(first)).at(-1)).toMatchObject({ event: "done" });
    expect((await send(client, b, session, "And then?")).res.status).toBe(200);
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.slice(-2)).toEqual([
      { role: "assistant", content: "Half and the rest." },
      { role: "user", content: "And then?" },
    ]);
    // Once no reply holds it, opening it reads ahead as usual (on A, whose cached stretch ends at its own reply).
    await (await client.fetch(`${a.url}/api/sessions/${session}`)).arrayBuffer();
    await expect.poll(() => a.logs.some((l) => l.includes('"msg":"thread read ahead"') && l.includes(session))).toBe(true);
    expect(b.logs.some((l) => l.includes('"msg":"thread read ahead"') && l.includes(session))).toBe(false);
  });

  it("route the next request on B by a model an admin just added on A", async () => {
    const admin = (method: string, p: string, body?: unknown) =>
      fetch(`${a.url}/api/admin${p}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const provider = await admin("POST", "/providers", { name: "added-on-a", displayName: "Added on A", kind: "openai_compatible", baseUrl: other.baseUrl, authScheme: "none" });
    expect(provider.status).toBe(201);
    const model = await admin("POST", "/models", { providerId: provider.body.provider.id, modelKey: "added/on-a", displayName: "Added on A", task: "roleplay", isDefault: true });
    expect(model.status).toBe(201);
    // No waiting: A answered only once B had loaded the change, as both record in `instances`.
    const [version] = await db.sql<{ v: number }[]>`select (value)::text::int as v from system_config where key = 'registry_version'`;
    const v = version!.v;
    const rows = await db.sql<{ id: string; registry_version: number }[]>`select id, registry_version from instances order by id`;
    expect(rows).toEqual([
      { id: "instance-a", registry_version: v },
      { id: "instance-b", registry_version: v },
    ]);
    const client = cookieClient(b.url);
    const session = await createSession(client);
    const { res, body } = await send(client, b, session, "Who answers?");
    expect(res.headers.get("x-parley-model")).toBe("added/on-a");
    expect(body.at(-1)).toMatchObject({ event: "done", data: { message: { content: "From the model added on A." } } });
    await admin("DELETE", `/models/${model.body.model.id}`);
    await admin("DELETE", `/providers/${provider.body.provider.id}`);
  });

  it("share admin logins, and count wrong tokens against one budget per address", async () => {
    const login = await fetch(`${a.url}/api/admin/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(login.status).toBe(200);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
    // Logged in on A, working on B: the login is a row in Postgres, not A's memory.
    const onB = await fetch(`${b.url}/api/admin/session`, { headers: { cookie } });
    expect(onB.status).toBe(200);
    const logoutOnB = await fetch(`${b.url}/api/admin/logout`, { method: "POST", headers: { cookie, "x-csrf-token": csrfToken } });
    expect(logoutOnB.status).toBe(200);
    expect((await fetch(`${a.url}/api/admin/session`, { headers: { cookie } })).status).toBe(401);

    // Ten wrong tokens from one address, spread over both instances, then both refuse it.
    const from = new Agent({ localAddress: "127.0.0.2" });
    const attempt = (p: ParleyProcess, token: string) =>
      undiciFetch(`${p.url}/api/admin/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }), dispatcher: from }).then((r) => r.status);
    const wrong = [];
    for (let i = 0; i < 10; i++) wrong.push(await attempt(i % 2 ? b : a, `not-the-token-${i}-0123456789`));
    expect(wrong).toEqual(Array(10).fill(401));
    expect(await attempt(a, ADMIN_TOKEN)).toBe(429);
    expect(await attempt(b, ADMIN_TOKEN)).toBe(429);
    await from.close();
  });

  it("keep serving when Redis stops (limits in memory, health degraded) and go back to Redis when it returns", async () => {
    await redis.stop();
    // The lost connection shows in health at once, before any request meets it.
    for (const p of [a, b]) {
      await expect.poll(async () => (await health(p)).status, { timeout: 10_000, interval: 50 }).toBe("degraded");
    }
    const client = cookieClient(a.url);
    const session = await createSession(client);
    for (const [i, p] of [a, b, a, b].entries()) {
      const { res } = await send(client, p, session, `While Redis is down ${i}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("20");
    }
    for (const p of [a, b]) {
      expect(await health(p)).toMatchObject({ status: "degraded", rateLimit: { store: "redis", active: "memory", degraded: true } });
      expect(p.logs.filter((l) => l.includes("rate-limit store failed"))).toHaveLength(1);
    }

    await redis.start();
    for (const p of [a, b]) {
      await expect.poll(async () => (await health(p)).rateLimit.active, { timeout: 15_000, interval: 100 }).toBe("redis");
      expect((await health(p)).status).toBe("ok");
      expect(p.logs.some((l) => l.includes("rate-limit store is back"))).toBe(true);
    }
    // Shared again: a fresh client over both instances gets 20 of 25 through.
    const fresh = cookieClient(a.url);
    const s2 = await createSession(fresh);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await send(fresh, i % 2 ? b : a, s2, `After ${i}`)).res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
  });
});

describe("Parley on Upstash's REST API", () => {
  let bridge: UpstashBridge;
  let parley: ParleyProcess;
  beforeAll(async () => {
    bridge = await UpstashBridge.start(redis.url, "upstash-rest-token");
    parley = await startParley({
      env: {
        OPENROUTER_BASE_URL: upstream.baseUrl,
        OPENROUTER_API_KEY: "sk-or-scale-out",
        PARLEY_API_KEYS: API_KEY,
        RATE_LIMIT_PER_MIN: "5",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: bridge.token,
      },
    });
  });
  afterAll(async () => {
    await parley?.stop();
    await bridge?.close();
  });

  it("limits /v1 per API key with @upstash/ratelimit", async () => {
    expect((await health(parley)).rateLimit).toEqual({ store: "upstash", active: "upstash", degraded: false });
    const window = Math.floor(Date.now() / 60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${parley.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: `Hi ${i}` }] }),
      });
      statuses.push(res.status);
      const body = (await res.json()) as any;
      if (res.status === 429) {
        expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    }
    const through = statuses.filter((s) => s === 200).length;
    // Upstash's window weighs the previous minute: crossing a minute boundary may let one more by.
    if (Math.floor(Date.now() / 60_000) === window) expect(through).toBe(5);
    else expect([5, 6]).toContain(through);
    expect(statuses.filter((s) => s === 429).length).toBe(8 - through);
    expect(bridge.commands.length).toBeGreaterThan(0);
    // The key in Redis is a hash: neither the API key nor its fingerprint is written there.
    expect(bridge.commands.flat().join(" ")).not.toContain(API_KEY);
  });
});

describe("who a client is", () => {
  let parley: ParleyProcess;
  beforeAll(async () => {
    parley = await startParley({
      env: { OPENROUTER_BASE_URL: upstream.baseUrl, OPENROUTER_API_KEY: "sk-or-scale-out", RATE_LIMIT_PER_MIN: "5", TRUST_PROXY: "1" },
    });
  });
  afterAll(async () => {
    await parley?.stop();
  });

  it("is the cookie and the address the trusted proxy saw: messages, regenerations and enhancements share its budget", async () => {
    const client = cookieClient(parley.url);
    const via = (address: string, spoof = "198.51.100.7") => ({ "x-forwarded-for": `${spoof}, ${address}` });
    const session = await createSession(client);
    const post = (p: string, body: unknown, headers: Record<string, string>) =>
      client.fetch(p, { method: "POST", body: JSON.stringify(body), headers }).then(async (r) => {
        await r.text();
        return r;
      });
    const home = via("203.0.113.1");
    const statuses = [
      (await post(`/api/sessions/${session}/messages`, { content: "One" }, home)).status,
      (await post(`/api/sessions/${session}/regenerate`, {}, home)).status,
      (await post("/api/enhance", { text: "make this better" }, home)).status,
      (await post(`/api/sessions/${session}/messages`, { content: "Two" }, home)).status,
      (await post("/api/enhance", { text: "and this" }, home)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const refused = await post(`/api/sessions/${session}/messages`, { content: "Three" }, home);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-limit")).toBe("5");
    // What the client wrote left of the proxy's entry changes nothing.
    expect((await post("/api/enhance", { text: "spoofed" }, via("203.0.113.1", "10.9.9.9"))).status).toBe(429);
    // The same cookie from another address is another client (a phone changing networks).
    expect((await post(`/api/sessions/${session}/messages`, { content: "From elsewhere" }, via("203.0.113.2"))).status).toBe(200);
    // Another browser at the first address has a budget of its own (an office behind one NAT).
    const colleague = cookieClient(parley.url);
    const theirs = await colleague.fetch("/api/enhance", { method: "POST", body: JSON.stringify({ text: "mine" }), headers: home });
    expect(theirs.status).toBe(200);
    // Creating and reading sessions calls no model and is not limited.
    expect((await client.fetch(`/api/sessions/${session}`, { headers: home })).status).toBe(200);
  });
});
