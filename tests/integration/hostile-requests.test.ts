import { once } from "node:events";
import { connect } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registryReloaded, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import { cookieClient, createSession, readSse, startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * The findings of the security probe, each as an attacker (or bad luck) would try it against a
 * real Parley process with a scripted upstream: every one of these failed before its fix.
 */

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };
const ADMIN_TOKEN = "hostile-admin-token-0123456789abcdef";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

describe("rate limits cannot be escaped by making up clients", () => {
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile", RATE_LIMIT_PER_MIN: "3", RATE_LIMIT_PER_ADDRESS_PER_MIN: "6" });
  });
  afterAll(() => stack?.stop());

  it("refuses model calls from a request with no cookie or a made-up one, and never calls the upstream for them", async () => {
    const before = stack.upstream.requests.length;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${stack.parley.url}/api/enhance`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hi" }) });
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code).toBe("unknown_client");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    // A self-chosen id, in the old format and in the signed one with a forged signature.
    const session = await createSession(stack.parley.client());
    for (const cookie of ["parley_client=" + "a".repeat(32), `parley_client=${"b".repeat(32)}.${"c".repeat(43)}`]) {
      for (const path of ["/api/enhance", `/api/sessions/${session}/messages`, "/api/sessions"]) {
        const res = await fetch(stack.parley.url + path, {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: JSON.stringify({ text: "hi", content: "hi", scenario: "refund-request" }),
        });
        expect(res.status, `${path} with ${cookie}`).toBe(403);
      }
    }
    expect(stack.upstream.requests.length).toBe(before);
  });

  it("limits an address however many cookies it collects, and counts session creation", async () => {
    const before = stack.upstream.requests.length;
    // From an address of its own, so the earlier test's requests do not count.
    const from = new Agent({ localAddress: "127.0.2.1" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Each "client" loads a page (a fresh signed id), creates a session and sends one message.
      const page = await undiciFetch(`${stack.parley.url}/api/sessions`, { dispatcher: from });
      const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
      await page.body?.cancel();
      const created = await undiciFetch(`${stack.parley.url}/api/sessions`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ scenario: "refund-request" }),
        dispatcher: from,
      });
      statuses.push(created.status);
      if (created.status !== 201) continue;
      const { session } = (await created.json()) as { session: { id: string } };
      const sent = await undiciFetch(`${stack.parley.url}/api/sessions/${session.id}/messages`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ content: "hello" }),
        dispatcher: from,
      });
      statuses.push(sent.status);
      await sent.text();
    }
    // Six in the address's minute (three creations and three messages), then 429 whatever the cookie.
    expect(statuses.slice(0, 6)).toEqual([201, 200, 201, 200, 201, 200]);
    expect(statuses[6]).toBe(429);
    expect(stack.upstream.requests.length - before).toBe(3);
    await from.close();

    // One client creating sessions without end is limited too.
    const c = stack.parley.client();
    const created: number[] = [];
    for (let i = 0; i < 4; i++) created.push((await c.fetch("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: "refund-request" }) })).status);
    expect(created).toEqual([201, 201, 201, 429]);
  });
});

describe("a page elsewhere cannot act for the person", () => {
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile" });
  });
  afterAll(() => stack?.stop());

  it("a cross-site form's POST without the cookie gets no new cookie, and the person keeps their conversation", async () => {
    const victim = stack.parley.client();
    const session = await createSession(victim);
    // What an auto-submitted form on another site sends: no cookie (SameSite=Lax), text/plain, Sec-Fetch-Site cross-site.
    const forged = await fetch(`${stack.parley.url}/api/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "text/plain", "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      body: "content=hello",
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("set-cookie")).toBeNull();
    // Without the cookie even a same-site-looking request is refused, never handed a new identity.
    const bare = await fetch(`${stack.parley.url}/api/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: "hello" }),
    });
    expect(bare.status).toBe(403);
    expect(bare.headers.get("set-cookie")).toBeNull();
    expect((await victim.json(`/api/sessions/${session}`)).status).toBe(200);
  });

  it("refuses changes marked cross-site or from a foreign origin, and bodies that are not JSON", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    const send = (headers: Record<string, string>, body = JSON.stringify({ content: "hi" })) =>
      c.json<ErrorBody>(`/api/sessions/${session}/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    expect((await send({ "sec-fetch-site": "cross-site" })).body.error.code).toBe("cross_site");
    expect((await send({ "sec-fetch-site": "same-site" })).status).toBe(403);
    expect((await send({ origin: "https://evil.example" })).body.error.code).toBe("cross_site");
    expect((await send({ origin: "null" })).status).toBe(403);
    const plain = await send({ "content-type": "text/plain" });
    expect(plain).toMatchObject({ status: 415, body: { error: { code: "unsupported_media_type" } } });
    // Our own page's requests pass.
    const own = await c.fetch(`/api/sessions/${session}/messages`, {
      method: "POST",
      headers: { "sec-fetch-site": "same-origin", origin: stack.parley.url },
      body: JSON.stringify({ content: "hi" }),
    });
    expect(own.status).toBe(200);
    await own.text();
  });

  it("keeps private answers out of caches, and another client's session out of enhance", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    const res = await c.fetch(`/api/sessions/${session}`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const other = stack.parley.client();
    const enhanced = await other.json<ErrorBody>("/api/enhance", { method: "POST", body: JSON.stringify({ text: "hi", sessionId: session }) });
    expect(enhanced).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });
});

describe("input Postgres cannot hold, and what the upstream sends", () => {
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile", ADMIN_TOKEN, PARLEY_API_KEYS: "hostile-key" });
  });
  afterAll(() => stack?.stop());

  it("answers NUL in a slug, a message, an admin field or a filter with a 400, never a 500", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    const cases: [string, RequestInit & { path: string }][] = [
      ["slug in the path", { path: "/api/scenarios/refund%00request" }],
      ["slug in a body", { path: "/api/sessions", method: "POST", body: JSON.stringify({ scenario: "refund\u0000" }) }],
      ["message", { path: `/api/sessions/${session}/messages`, method: "POST", body: JSON.stringify({ content: "hi\u0000there" }) }],
      ["admin field", { path: "/api/admin/scenarios", method: "POST", headers: admin, body: JSON.stringify({ slug: "nul", title: "a\u0000b" }) }],
      ["admin filter", { path: "/api/admin/requests?model=x%00y", headers: admin }],
    ];
    for (const [what, { path, ...init }] of cases) {
      const res = await c.json<ErrorBody>(path, init);
      expect(res.status, what).toBe(400);
      expect(res.body.error.code, what).toBe("invalid_characters");
    }
  });

  it("strips NUL from a reply before storing it, and the stream ends with done", async () => {
    stack.upstream.enqueue({ kind: "stream", chunks: ["Hel\u0000lo ", "\u0000", "there."] });
    const c = stack.parley.client();
    const session = await createSession(c);
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "hi" }) }));
    expect(events.at(-1)).toMatchObject({ event: "done", data: { message: { content: "Hello there." } } });
    const view = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(view.body.session.messages.at(-1)!.content).toBe("Hello there.");
  });

  it("a model key outside ASCII is refused by the admin, and one already stored neither wedges its conversation nor the shutdown", async () => {
    const [roleplay] = await stack.db.sql<{ id: string; providerId: string }[]>`
      select m.id, m.provider_id as "providerId" from api_models m join api_providers p on p.id = m.provider_id
      where m.task = 'roleplay' and p.kind = 'openrouter' order by m.priority limit 1`;
    const refused = await fetch(`${stack.parley.url}/api/admin/models`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ providerId: roleplay!.providerId, modelKey: "modèle/ünïcode", displayName: "U", task: "roleplay" }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ErrorBody).error.fields!.modelKey).toMatch(/ASCII/);

    // One stored before the rule (written straight to the database), made the default.
    await stack.db.sql`update api_models set model_key = 'modèle/ünïcode', priority = 0 where id = ${roleplay!.id}`;
    await registryReloaded(stack.parley, stack.db.sql);
    const c = stack.parley.client();
    const session = await createSession(c);
    for (let i = 0; i < 2; i++) {
      const res = await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: `try ${i}` }) });
      expect(res.status, `message ${i}`).toBe(200);
      expect(res.headers.get("x-parley-model")).toBe(encodeURIComponent("modèle/ünïcode"));
      expect((await readSse(res)).at(-1)!.event).toBe("done");
    }
    // And SIGTERM still ends in an orderly stop (the forced exit would not log "stopped"): request log flushed, database closed.
    await stack.parley.stop();
    expect(stack.parley.logs.join("\n")).toContain('"msg":"stopped"');
  });
});

describe("nothing private in the logs", () => {
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile", ADMIN_TOKEN });
    // Database errors on demand: a check that refuses text containing FAIL-ME, and a trigger that refuses new scenarios.
    await stack.db.sql.unsafe(`
      alter table messages add constraint probe_refuses check (content not like '%FAIL-ME%');
      create function probe_fail() returns trigger language plpgsql as $$ begin raise exception 'probe says no'; end $$;
      create trigger probe_no_scenarios before insert on scenarios for each row execute function probe_fail();
    `);
  });
  afterAll(() => stack?.stop());

  it("a failed query logs its code and message, never its parameters: no message, reply, prompt or cookie", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    const userText = "FAIL-ME private words of the person 7731";
    const res = await c.json<ErrorBody>(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: userText }) });
    expect(res.status).toBe(500);

    // A reply the database refuses: the stream says it was not saved, and the log does not hold it.
    const replyText = "FAIL-ME the model's private reply 5521";
    stack.upstream.enqueue({ kind: "stream", chunks: [replyText] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "hello" }) }));
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "not_saved" } });

    const prompt = "PRIVATE-SYSTEM-PROMPT 9043";
    const created = await fetch(`${stack.parley.url}/api/admin/scenarios`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        slug: "probe",
        title: "Probe",
        characterName: "P",
        description: "d",
        category: "story",
        openingMessage: "o",
        avatarStyle: "pixel-art",
        avatarSeed: "p",
        systemPrompt: prompt,
      }),
    });
    expect(created.status).toBe(500);

    // The server's output arrives through a pipe: wait for the admin write's line.
    await vi.waitFor(() => expect(stack.parley.logs.join("\n")).toMatch(/probe says no/));
    const logs = stack.parley.logs.join("\n");
    expect(logs).toMatch(/"code":"23514"/); // the check's SQLSTATE, so the cause is still there
    for (const secret of ["private words", "7731", "private reply", "5521", prompt, "params:", ADMIN_TOKEN]) expect(logs).not.toContain(secret);
    // The browser's client id (its only credential) appears in no line.
    const ids = logs.match(/[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}/g) ?? [];
    expect(ids).toEqual([]);
  });
});

describe("an admin cannot point Parley at the deployment's own secrets or network", () => {
  let stack: GatewayStack;
  let elsewhere: ScriptedUpstream;
  beforeAll(async () => {
    elsewhere = await ScriptedUpstream.start();
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile", ADMIN_TOKEN, ALLOW_PRIVATE_UPSTREAMS: "false", DEPLOY_API_KEY: "deploy-key-value" });
  });
  afterAll(async () => {
    await stack?.stop();
    await elsewhere?.close();
  });

  const provider = (over: Record<string, unknown>) => ({
    name: "probe",
    displayName: "Probe",
    kind: "openai_compatible",
    baseUrl: "https://api.example.com/v1",
    authScheme: "bearer",
    secretName: "DEPLOY_API_KEY",
    ...over,
  });
  const post = (body: unknown) => fetch(`${stack.parley.url}/api/admin/providers`, { method: "POST", headers: admin, body: JSON.stringify(body) });

  it("a provider may name only key-shaped variables, never Parley's own settings", async () => {
    for (const name of ["ADMIN_TOKEN", "DATABASE_URL", "UPSTASH_REDIS_REST_TOKEN", "AWS_SECRET_ACCESS_KEY", "PATH"]) {
      const res = await post(provider({ name: `s-${name.toLowerCase().replaceAll("_", "-")}`, secretName: name }));
      expect(res.status, name).toBe(400);
      expect(((await res.json()) as ErrorBody).error.fields!.secretName, name).toBeTruthy();
    }
    // Even one already stored (written straight to the database) reads nothing.
    const ok = await post(provider({ name: "fine" }));
    expect(ok.status).toBe(201);
    const { provider: row } = (await ok.json()) as { provider: { id: string; secretPresent: boolean } };
    expect(row.secretPresent).toBe(true);
    await stack.db.sql`update api_providers set secret_name = 'ADMIN_TOKEN' where id = ${row.id}`;
    await stack.db.sql`update system_config set value = to_jsonb((value)::text::int + 1) where key = 'registry_version'`;
    await vi.waitFor(async () => {
      const res = await fetch(`${stack.parley.url}/api/admin/providers/${row.id}`, { headers: admin });
      const body = (await res.json()) as { provider: { secretPresent: boolean; secretName: string } };
      if (body.provider.secretName !== "ADMIN_TOKEN") throw new Error("not yet");
      expect(body.provider.secretPresent).toBe(false);
    });
  });

  it("private and loopback targets are refused, when saved and when called", async () => {
    for (const baseUrl of ["http://127.0.0.1:9/v1", "http://10.1.2.3/v1", "http://169.254.169.254/latest", "http://[::1]:8080/v1", "http://localhost:11434/v1"]) {
      const res = await post(provider({ name: "private", baseUrl }));
      expect(res.status, baseUrl).toBe(400);
      expect(((await res.json()) as ErrorBody).error.fields!.baseUrl, baseUrl).toMatch(/ALLOW_PRIVATE_UPSTREAMS/);
    }
    // The seeded OpenRouter row points at the scripted upstream on loopback: with the rule on, a chat never reaches it.
    const c = stack.parley.client();
    const session = await createSession(c);
    const before = stack.upstream.requests.length;
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "hi" }) }));
    expect(events.at(-1)).toMatchObject({ event: "error" });
    expect(stack.upstream.requests.length).toBe(before);
  });
});

describe("an admin's Test follows no redirect and shows no foreign page", () => {
  let stack: GatewayStack;
  let elsewhere: ScriptedUpstream;
  beforeAll(async () => {
    elsewhere = await ScriptedUpstream.start();
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-hostile", ADMIN_TOKEN, REDIRECT_API_KEY: "redirect-key-value" });
  });
  afterAll(async () => {
    await stack?.stop();
    await elsewhere?.close();
  });

  it("a cross-origin 307 is an error, and the other host receives nothing", async () => {
    const res = await fetch(`${stack.parley.url}/api/admin/providers`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        name: "redirecting",
        displayName: "Redirecting",
        kind: "openai_compatible",
        baseUrl: stack.upstream.baseUrl,
        secretName: "REDIRECT_API_KEY",
        authScheme: "header",
        authHeaderName: "X-Custom-Key",
      }),
    });
    expect(res.status).toBe(201);
    const { provider } = (await res.json()) as { provider: { id: string } };
    const model = await fetch(`${stack.parley.url}/api/admin/models`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ providerId: provider.id, modelKey: "probe/model", displayName: "Probe", task: "roleplay", isActive: false }),
    });
    expect(model.status).toBe(201);

    stack.upstream.enqueue({ kind: "status", status: 307, headers: { location: `${elsewhere.baseUrl}/chat/completions` }, body: {} });
    const test = await fetch(`${stack.parley.url}/api/admin/providers/${provider.id}/test`, { method: "POST", headers: admin, body: "{}" });
    const result = (await test.json()) as { result: { ok: boolean; status: number; error: string } };
    expect(result.result).toMatchObject({ ok: false, status: 307 });
    expect(result.result.error).toMatch(/redirect/);
    expect(elsewhere.requests).toHaveLength(0);

    // A page that is not an API's answer is not shown back.
    stack.upstream.enqueue({ kind: "status", status: 500, body: "<html>INTERNAL-PAGE-CONTENT 4412</html>", headers: { "content-type": "text/html" } });
    const again = await fetch(`${stack.parley.url}/api/admin/providers/${provider.id}/test`, { method: "POST", headers: admin, body: "{}" });
    const text = await again.text();
    expect(text).not.toContain("INTERNAL-PAGE-CONTENT");
    expect(JSON.parse(text)).toMatchObject({ result: { ok: false, status: 500 } });
  });
});

describe("small things the probe found", () => {
  let parley: ParleyProcess;
  beforeAll(async () => {
    parley = await startParley({ env: { TRUST_PROXY: "1", PARLEY_API_KEYS: "small-key", MAX_BODY_BYTES: "2048" } });
  });
  afterAll(() => parley?.stop());

  it("cookies are Secure and HSTS is sent behind a TLS proxy, and neither over plain HTTP", async () => {
    const plain = await fetch(`${parley.url}/`);
    expect(plain.headers.get("set-cookie")).not.toMatch(/Secure/i);
    expect(plain.headers.get("strict-transport-security")).toBeNull();
    const tls = await fetch(`${parley.url}/`, { headers: { "x-forwarded-proto": "https" } });
    expect(tls.headers.get("set-cookie")).toMatch(/; Secure/i);
    expect(tls.headers.get("strict-transport-security")).toMatch(/max-age=/);
  });

  it("after a 413 the next request on the same connection works", async () => {
    const agent = new Agent({ connections: 1 });
    const c = cookieClient(parley.url);
    await c.fetch("/api/sessions");
    const big = await undiciFetch(`${parley.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario: "x".repeat(2_000_000) }),
      dispatcher: agent,
    });
    expect(big.status).toBe(413);
    await big.text();
    const next = await undiciFetch(`${parley.url}/api/health`, { dispatcher: agent, signal: AbortSignal.timeout(10_000) });
    expect(next.status).toBe(200);
    await agent.close();
  });

  it("a client still sending a body far past the limit gets the 413, not a broken pipe, and keeps its connection", async () => {
    // Before, the connection closed as soon as the 413 went out: a client 28 MB into its upload saw
    // EPIPE ("fetch failed") instead of the answer. Declared (a Buffer) and chunked (a stream) alike.
    const agent = new Agent({ connections: 1 });
    const c = cookieClient(parley.url);
    await c.fetch("/api/sessions");
    const big = Buffer.alloc(30 * 1024 * 1024, 0x61);
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 30; i++) controller.enqueue(big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
          controller.close();
        },
      });
    for (const [path, headers] of [
      ["/api/sessions", { "content-type": "application/json", cookie: c.cookie() }],
      ["/v1/chat/completions", { "content-type": "application/json", authorization: "Bearer small-key" }],
    ] as const) {
      for (const body of [big, chunked()]) {
        const res = await undiciFetch(`${parley.url}${path}`, { method: "POST", headers, body, dispatcher: agent, duplex: "half" });
        expect(res.status, path).toBe(413);
        expect(res.headers.get("connection"), path).not.toBe("close");
        expect(((await res.json()) as ErrorBody).error.code, path).toBe("body_too_large");
      }
    }
    const next = await undiciFetch(`${parley.url}/api/health`, { dispatcher: agent, signal: AbortSignal.timeout(10_000) });
    expect(next.status).toBe(200);
    await agent.close();
  });

  it("a body declared past what is worth reading is refused at once, on a connection then closed", async () => {
    const socket = connect(new URL(parley.url).port ? Number(new URL(parley.url).port) : 80, "127.0.0.1");
    await once(socket, "connect");
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer small-key\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n{"model":`);
    let answer = "";
    socket.setEncoding("utf8").on("data", (d: string) => (answer += d));
    await once(socket, "close");
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"body_too_large"');
  });

  it("/v1 answers unknown routes in JSON, bounds max_tokens, and avatars keep their own strict policy", async () => {
    const key = { authorization: "Bearer small-key" };
    for (const [method, path] of [["GET", "/v1/nothing"], ["GET", "/v1/chat/completions"], ["POST", "/v1/embeddings"]] as const) {
      const res = await fetch(parley.url + path, { method, headers: { ...key, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/json/);
    }
    const huge = await fetch(`${parley.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...key, "content-type": "application/json" },
      body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], max_tokens: 10_000_000 }),
    });
    expect(huge.status).toBe(400);
    const avatar = await fetch(`${parley.url}/avatars/pixel-art/seed.svg`);
    expect(avatar.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
  });
});
