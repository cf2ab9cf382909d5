import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../support/db.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { startTempRedis, type TempRedis } from "../support/redis.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * Parley API keys as rows, on two instances sharing one Postgres: limits hold across them (per-minute
 * counts in Redis when configured, else in the database), a budget is spent by real costs, and a
 * change made on one instance holds on the other by its next request. The secret is seen once.
 */
const ADMIN_TOKEN = "api-keys-admin-token-0123456789";

type KeyView = { id: string; name: string; prefix: string; spentUsd: number; remainingUsd: number | null; resetsAt: string | null; revoked: boolean; lastUsedAt: string | null };
type Made = { key: KeyView; secret: string };
type OpenAiError = { error: { message: string; type: string; code: string } };

describe.each(["database", "redis"] as const)("API keys with their counts in the %s", (store) => {
  let upstream: ScriptedUpstream;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: TempRedis | undefined;
  let a: ParleyProcess;
  let b: ParleyProcess;
  let sql: postgres.Sql;
  const secrets: string[] = [];

  beforeAll(async () => {
    [upstream, db, redis] = await Promise.all([ScriptedUpstream.start(), createTestDatabase(inject("postgresUrl")), store === "redis" ? startTempRedis() : undefined]);
    upstream.setDefault({ kind: "stream", chunks: ["Fine."], usage: { prompt_tokens: 20, completion_tokens: 5, cost: 0.0003 } });
    const env = (id: string) => ({
      DATABASE_URL: db.url,
      OPENROUTER_BASE_URL: upstream.baseUrl,
      OPENROUTER_API_KEY: "sk-or-keys",
      ADMIN_TOKEN,
      PARLEY_INSTANCE_ID: id,
      REGISTRY_POLL_MS: "600000",
      RATE_LIMIT_PER_MIN: "100000",
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
    [a, b] = await Promise.all([startParley({ env: env("keys-a") }), startParley({ env: env("keys-b") })]);
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    // The secrets were in their creation answers and nowhere else: not in any log line of either instance.
    const logs = [...(a?.logs ?? []), ...(b?.logs ?? [])].join("\n");
    for (const s of secrets) expect(logs).not.toContain(s);
    await sql?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([upstream?.close(), redis?.close()]);
    await db?.drop();
  });

  const admin = (p: ParleyProcess, path: string, init: RequestInit = {}) =>
    fetch(`${p.url}/api/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" } });
  const create = async (body: object): Promise<Made> => {
    const res = await admin(a, "/keys", { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    const made = (await res.json()) as Made;
    secrets.push(made.secret);
    return made;
  };
  const chat = (p: ParleyProcess, secret: string, model = "parley/roleplay") =>
    fetch(`${p.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
    });

  it("shows a new key's secret once, with a recognisable prefix; the list never shows it", async () => {
    const made = await create({ name: `plain-${store}`, ownerNote: "the docs bot" });
    expect(made.secret).toMatch(/^pk-parley-[A-Za-z0-9_-]{43}$/);
    expect(made.key.prefix).toBe(made.secret.slice(0, 14));
    const list = await (await admin(b, "/keys")).text();
    expect(list).toContain(`plain-${store}`);
    expect(list).not.toContain(made.secret);
    expect(list).not.toMatch(/secretHash|secret_hash/);
    // Works on the other instance at once.
    expect((await chat(b, made.secret)).status).toBe(200);
    const dup = await admin(a, "/keys", { method: "POST", body: JSON.stringify({ name: `plain-${store}` }) });
    expect(dup.status).toBe(409);
    const bad = await admin(a, "/keys", { method: "POST", body: JSON.stringify({ name: "", rpm: 0, budgetPeriod: "yearly" }) });
    expect(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields).toMatchObject({ name: expect.any(String), rpm: expect.any(String), budgetPeriod: expect.any(String) });
  });

  it("refuses past its requests per minute with 429 and Retry-After, counting on every instance", async () => {
    const { secret } = await create({ name: `rpm-${store}`, rpm: 2 });
    expect((await chat(a, secret)).status).toBe(200);
    expect((await chat(b, secret)).status).toBe(200);
    const refused = await chat(a, secret);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as OpenAiError).error).toMatchObject({ code: "rate_limited", message: expect.stringContaining("2 requests per minute") });
    expect((await chat(b, secret)).status).toBe(429);
  });

  it("refuses past its tokens per minute, counted from each answer's real usage", async () => {
    const { secret } = await create({ name: `tpm-${store}`, tpm: 30 });
    expect((await chat(a, secret)).status).toBe(200); // 25 tokens
    expect((await chat(b, secret)).status).toBe(200); // 25 before it: under 30
    const refused = await chat(a, secret);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as OpenAiError).error.message).toContain("30 tokens per minute");
  });

  it("spends its budget by real costs, refuses with insufficient_quota and when it resets, and takes requests again in a new period", async () => {
    const { key, secret } = await create({ name: `budget-${store}`, budgetUsd: 0.0005, budgetPeriod: "daily" });
    const before = upstream.requests.length;
    expect((await chat(a, secret)).status).toBe(200);
    expect((await chat(b, secret)).status).toBe(200);
    const refused = await chat(a, secret);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as OpenAiError;
    expect(body.error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota", message: expect.stringMatching(/resets at \d{4}-\d\d-\d\dT00:00:00/) });
    // Refused before any upstream was called.
    expect(upstream.requests.length - before).toBe(2);
    const view = ((await (await admin(b, "/keys")).json()) as { keys: KeyView[] }).keys.find((k) => k.id === key.id)!;
    expect(view.spentUsd).toBeCloseTo(0.0006, 8);
    expect(view.remainingUsd).toBe(0);
    expect(view.lastUsedAt).not.toBeNull();
    // The next day: that spend is the last period's.
    await sql`update api_key_spend set period_start = period_start - interval '1 day' where key_id = ${key.id}`;
    expect((await chat(b, secret)).status).toBe(200);
  });

  it("holds a key to its tasks and models", async () => {
    const { secret } = await create({ name: `scoped-${store}`, allowedTasks: ["enhance"] });
    const refused = await chat(a, secret);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as OpenAiError).error.code).toBe("key_not_allowed");
    expect((await chat(a, secret, "parley/enhance")).status).toBe(200);
  });

  it("stops a key on the other instance by its next request: expired, switched off, rotated, revoked", async () => {
    const { key, secret } = await create({ name: `life-${store}` });
    expect((await chat(b, secret)).status).toBe(200);
    const patch = (body: object) => admin(a, `/keys/${key.id}`, { method: "PATCH", body: JSON.stringify(body) });
    expect((await patch({ expiresAt: "2020-01-01T00:00:00Z" })).status).toBe(200);
    expect(((await (await chat(b, secret)).json()) as OpenAiError).error.message).toContain("expired on 2020-01-01");
    expect((await patch({ expiresAt: null, enabled: false })).status).toBe(200);
    expect(((await (await chat(b, secret)).json()) as OpenAiError).error.message).toContain("switched off");
    expect((await patch({ enabled: true })).status).toBe(200);
    const rotated = (await (await admin(a, `/keys/${key.id}/rotate`, { method: "POST", body: "{}" })).json()) as Made;
    secrets.push(rotated.secret);
    expect((await chat(b, secret)).status).toBe(401);
    expect((await chat(b, rotated.secret)).status).toBe(200);
    expect((await admin(a, `/keys/${key.id}/revoke`, { method: "POST", body: "{}" })).status).toBe(200);
    const revoked = await chat(b, rotated.secret);
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as OpenAiError).error.message).toContain("revoked");
    expect((await patch({ enabled: true })).status).toBe(409);
  });

  it("names the key in the request log and the usage, never its secret", async () => {
    const { key, secret } = await create({ name: `logged-${store}` });
    expect((await chat(a, secret)).status).toBe(200);
    const requests = await expect
      .poll(async () => ((await (await admin(b, `/requests?key=${key.id}`)).json()) as { requests: { apiKeyName: string }[] }).requests, { timeout: 10_000 })
      .toHaveLength(1);
    void requests;
    const page = await (await admin(b, `/requests?key=${key.id}`)).text();
    expect(page).toContain(`"apiKeyName":"logged-${store}"`);
    expect(page).not.toContain(secret);
    const usage = (await (await admin(b, "/usage?window=hour")).json()) as { byKey: { name: string; requests: number }[] };
    expect(usage.byKey.find((k) => k.name === `logged-${store}`)).toMatchObject({ requests: 1 });
    const filtered = (await (await admin(b, `/usage?window=hour&key=${key.id}`)).json()) as { totals: { requests: number } };
    expect(filtered.totals.requests).toBe(1);
  });
});

describe("API keys while Redis is down", () => {
  let upstream: ScriptedUpstream;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: TempRedis;
  let p: ParleyProcess;
  beforeAll(async () => {
    [upstream, db, redis] = await Promise.all([ScriptedUpstream.start(), createTestDatabase(inject("postgresUrl")), startTempRedis()]);
    upstream.setDefault({ kind: "stream", chunks: ["Fine."], usage: { prompt_tokens: 2, completion_tokens: 1 } });
    p = await startParley({
      env: { DATABASE_URL: db.url, REDIS_URL: redis.url, OPENROUTER_BASE_URL: upstream.baseUrl, OPENROUTER_API_KEY: "sk-or-keys", ADMIN_TOKEN, RATE_LIMIT_PER_MIN: "100000" },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await upstream?.close();
    await db?.drop();
  });

  it("keeps answering, counting in the database instead, and still refuses past the rate", async () => {
    const res = await fetch(`${p.url}/api/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "redis-down", rpm: 2 }),
    });
    const { secret } = (await res.json()) as Made;
    const chat = () =>
      fetch(`${p.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "Hi" }] }),
      });
    await redis.close();
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(429);
    expect(p.logs.join("\n")).toContain("Redis is unavailable: API keys' per-minute counts are kept in the database");
  });
});
