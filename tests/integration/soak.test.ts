import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cookieClient, startParley, type Client, type ParleyProcess } from "../support/parley.js";
import { startTempPostgres, type TempPostgres } from "../support/postgres.js";
import { startTempRedis, type TempRedis } from "../support/redis.js";
import { ScriptedUpstream, type Script } from "../support/upstream.js";

/**
 * A faulted soak: mixed traffic from many clients (chat, regenerate, /v1 streamed and not, admin
 * edits) while the upstream fails at random in every way it can, Parley is killed with SIGKILL
 * mid-reply once, Postgres is stopped and started once, and Redis once. Bounded: a fixed number
 * of rounds per client, each fault at a fixed point of the run.
 *
 * Then: every user message that got a 2xx is stored, every reply is complete or kept partial
 * with its finish reason, no answer was a 5xx but a documented one, no conversation is left
 * locked, and no log line holds a message or a credential.
 */

const ADMIN_TOKEN = "soak-admin-token-0123456789abcdef";
const API_KEY = "soak-api-key-secret";
const CLIENTS = 8;
const ROUNDS = 20;
/** Answers a client may get with a 5xx, each documented in the README. */
const DOCUMENTED_5XX = new Set(["db_unavailable", "upstream_error", "upstream_unavailable", "no_provider"]);
const FINISHED = new Set(["stop", "length", "error", "aborted", "interrupted", "opening"]);

/** The scripted upstream's faults, drawn with a seeded generator so a failing run can be replayed. */
function chaos(seed: number) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i} `);
  return (): Script => {
    const r = rand();
    if (r < 0.4) return { kind: "stream", chunks: words(6), delayMs: 15 };
    if (r < 0.5) return { kind: "status", status: [500, 502, 503][Math.floor(rand() * 3)]! };
    if (r < 0.55) return { kind: "status", status: 429, headers: { "retry-after": "1" } };
    if (r < 0.6) return { kind: "hang" };
    if (r < 0.65) return { kind: "headers-then-hang" };
    if (r < 0.75) return { kind: "stream", chunks: words(8), delayMs: 10, cutAfter: 3 };
    if (r < 0.82) return { kind: "stream", chunks: words(8), delayMs: 10, errorAfter: { chunks: 4, message: "scripted mid-stream error" } };
    if (r < 0.88) return { kind: "stream", chunks: words(8), delayMs: 10, holdAfter: 2 };
    if (r < 0.94) return { kind: "stream", chunks: words(5), malformedAt: 2, keepAlives: 2 };
    return { kind: "stream", chunks: words(40), delayMs: 20 };
  };
}

type Outcome = { what: string; status: number; code?: string };

describe.each(["pglite", "postgres"] as const)("faulted soak on %s", (kind) => {
  let upstream: ScriptedUpstream;
  let redis: TempRedis;
  let pg: TempPostgres | undefined;
  let dataDir: string;
  let parley: ParleyProcess;
  const allLogs: string[][] = [];

  const env = () => ({
    OPENROUTER_BASE_URL: upstream.baseUrl,
    OPENROUTER_API_KEY: "sk-or-soak-secret",
    DATABASE_URL: pg?.url,
    REDIS_URL: redis.url,
    ADMIN_TOKEN,
    PARLEY_API_KEYS: API_KEY,
    PARLEY_INSTANCE_ID: `soak-${kind}`,
    RATE_LIMIT_PER_MIN: "100000",
    RATE_LIMIT_PER_ADDRESS_PER_MIN: "100000",
    REPLY_SAVE_INTERVAL_MS: "150",
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: "700",
    UPSTREAM_IDLE_TIMEOUT_MS: "700",
    UPSTREAM_CONNECT_TIMEOUT_MS: "1000",
    REQUEST_TIMEOUT_MS: "6000",
    RETRY_AFTER_MAX_S: "1",
    BREAKER_FAILURE_THRESHOLD: "1000",
    REQUEST_LOG_FLUSH_MS: "100",
  });

  beforeAll(async () => {
    upstream = await ScriptedUpstream.start();
    redis = await startTempRedis();
    pg = kind === "postgres" ? await startTempPostgres() : undefined;
    dataDir = mkdtempSync(path.join(tmpdir(), "parley-soak-"));
    parley = await startParley({ dataDir, env: env() });
    allLogs.push(parley.logs);
  });
  afterAll(async () => {
    await parley?.stop();
    await upstream?.close();
    await redis?.close();
    pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses no message the person sent, no reply they saw, leaves nothing locked and logs nothing private", async () => {
    upstream.setChooser(chaos(kind === "pglite" ? 7 : 11));
    const outcomes: Outcome[] = [];
    /** Each client's sessions, and the user messages Parley acknowledged (id and text). */
    const clients = Array.from({ length: CLIENTS }, (_, i) => ({ i, client: undefined as Client | undefined, sessions: [] as string[], sent: [] as { session: string; id: string; content: string }[] }));
    const url = () => parley.url;
    let marker = 0;

    const record = async (what: string, res: Response) => {
      let code: string | undefined;
      if (res.status >= 400) code = ((await res.json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code;
      outcomes.push({ what, status: res.status, code });
      return res;
    };
    /** Reads a chat reply's events; keeps the acknowledged user message; sometimes leaves halfway, as a person pressing Stop. */
    const readReply = async (res: Response, session: string, content: string | undefined, sent: (typeof clients)[number]["sent"], leave: boolean) => {
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          const start = /event: start\ndata: (.*)\n/.exec(text);
          if (start && content && !sent.some((s) => s.content === content)) {
            const data = JSON.parse(start[1]!) as { userMessage: { id: string } | null };
            if (data.userMessage) sent.push({ session, id: data.userMessage.id, content });
          }
          if (leave && text.includes("event: delta")) break;
        }
      } catch {
        // the connection dropped (Parley killed): what was acknowledged is already recorded
      } finally {
        await reader.cancel().catch(() => {});
      }
    };

    const act = async (c: (typeof clients)[number], round: number) => {
      if (!c.client) c.client = cookieClient(url());
      const base = url();
      // The client follows Parley to wherever it runs now (a restart gets a new port).
      const client = cookieClient(base, c.client.cookie());
      const fetchJson = (p: string, init: RequestInit = {}) => client.fetch(p, init);
      if (c.sessions.length === 0 || round % 5 === 0) {
        const res = await record("create", await fetchJson("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: "refund-request" }) }));
        if (res.status === 201) c.sessions.push(((await res.json()) as { session: { id: string } }).session.id);
        c.client = client;
        return;
      }
      c.client = client;
      const session = c.sessions[round % c.sessions.length]!;
      const pick = (c.i + round) % 7;
      if (pick <= 2) {
        const content = `SOAK-SECRET-${++marker} hello from client ${c.i}`;
        const res = await record("chat", await fetchJson(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) }));
        if (res.status === 200) await readReply(res, session, content, c.sent, pick === 2 && round % 2 === 0);
        else await res.body?.cancel();
      } else if (pick === 3) {
        const res = await record("regenerate", await fetchJson(`/api/sessions/${session}/regenerate`, { method: "POST", body: "{}" }));
        if (res.status === 200) await readReply(res, session, undefined, c.sent, false);
        else await res.body?.cancel();
      } else if (pick <= 5) {
        const stream = pick === 4;
        const res = await record(
          stream ? "v1-stream" : "v1",
          await fetch(`${base}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "parley/roleplay", stream, messages: [{ role: "user", content: `SOAK-SECRET-${++marker} via v1` }] }),
          }),
        );
        await res.text().catch(() => "");
      } else {
        const res = await record(
          "admin",
          await fetch(`${base}/api/admin/scenarios`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
        );
        const body = (await res.json().catch(() => null)) as { scenarios?: { id: string; title: string }[] } | null;
        const s = body?.scenarios?.find((x) => x.title.startsWith("The upset") || x.title.length > 0);
        if (s) {
          await record(
            "admin-edit",
            await fetch(`${base}/api/admin/scenarios/${s.id}`, {
              method: "PATCH",
              headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
              body: JSON.stringify({ sortOrder: round }),
            }),
          );
        }
      }
    };

    /** Resolved while Parley is up; while it restarts, requests that found it down wait on this. */
    let up: Promise<void> = Promise.resolve();
    let faultsDone = false;
    const runClient = async (c: (typeof clients)[number]) => {
      // At least ROUNDS rounds, and on until every fault has happened (bounded all the same).
      for (let round = 0; (round < ROUNDS || !faultsDone) && round < 400; round++) {
        try {
          await act(c, round);
        } catch {
          // A request that found Parley down (killed, restarting) is not an answer: nothing to check. Wait until it is back.
          await up;
        }
      }
    };

    type Health = { database?: { reachable: boolean }; rateLimit?: { degraded: boolean } };
    const healthSays = (ok: (h: Health) => boolean) =>
      vi.waitFor(
        async () => {
          const h = (await (await fetch(`${parley.url}/api/health`)).json()) as Health;
          if (!ok(h)) throw new Error(`health is ${JSON.stringify(h)}`);
        },
        { timeout: 20_000, interval: 100 },
      );

    // The faults, each at a point of the run: after the traffic has made some progress.
    const faults = (async () => {
      const atRequests = (n: number) => upstream.waitForRequests(upstream.requests.length + n);
      await atRequests(15);
      // SIGKILL mid-reply: streams are under way all the time in this traffic.
      let back!: () => void;
      up = new Promise((r) => (back = r));
      process.kill(parley.pid, "SIGKILL");
      await parley.stop();
      parley = await startParley({ dataDir, env: env() });
      back();
      allLogs.push(parley.logs);
      await atRequests(15);
      if (pg) {
        pg.halt();
        // The outage lasts until Parley has noticed it (and traffic has met it).
        await healthSays((h) => h.database?.reachable === false);
        await atRequests(5);
        pg.start();
      }
      await atRequests(10);
      await redis.stop();
      await healthSays((h) => h.rateLimit?.degraded === true);
      await atRequests(5);
      await redis.start();
      await healthSays((h) => h.rateLimit?.degraded === false);
      await atRequests(10);
    })().finally(() => (faultsDone = true));

    await Promise.all([...clients.map(runClient), faults]);

    // Quiet now: every reply held during an outage gets stored, every claim released.
    upstream.setChooser(undefined);
    upstream.setDefault({ kind: "stream", chunks: ["All ", "good."] });

    // 1. No 5xx but a documented one.
    const undocumented = outcomes.filter((o) => o.status >= 500 && !DOCUMENTED_5XX.has(o.code ?? ""));
    expect(undocumented, JSON.stringify(undocumented)).toEqual([]);
    // The traffic was the mix it claims to be, and the faults were met.
    const served = (what: string) => outcomes.filter((o) => o.what === what && o.status < 300).length;
    for (const what of ["create", "chat", "regenerate", "v1", "v1-stream", "admin-edit"]) expect(served(what), what).toBeGreaterThan(0);
    expect(served("chat")).toBeGreaterThan(20);
    expect(allLogs).toHaveLength(2); // killed once, started again
    expect(upstream.requests.length).toBeGreaterThan(60);

    for (const c of clients) {
      const client = cookieClient(parley.url, c.client?.cookie() ?? "");
      for (const session of c.sessions) {
        await vi.waitFor(
          async () => {
            const { status, body } = await client.json<{ session: { messages: { id: string; role: string; finishReason: string | null }[] } }>(`/api/sessions/${session}`);
            expect(status).toBe(200);
            const messages = body.session.messages;
            // 2. Every acknowledged user message is stored (a regenerate's superseded replies aside, the thread keeps them).
            for (const s of c.sent.filter((x) => x.session === session)) expect(messages.map((m) => m.id)).toContain(s.id);
            // 3. Every reply is finished or kept partial with its reason: none still "being written".
            for (const m of messages.filter((x) => x.role === "assistant")) expect(FINISHED.has(m.finishReason ?? ""), `${m.id} ${m.finishReason}`).toBe(true);
          },
          { timeout: 30_000, interval: 250 },
        );
        // 4. Not locked: a new message is answered (a claim of the killed process lapses within seconds at most).
        await vi.waitFor(
          async () => {
            const res = await client.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "final check" }) });
            expect(res.status).toBe(200);
            expect(await res.text()).toContain("event: done");
          },
          { timeout: 30_000, interval: 500 },
        );
      }
    }

    // 5. No log line, of either process, holds what people wrote or a credential.
    const logs = allLogs.flat().join("\n");
    for (const secret of ["SOAK-SECRET", ADMIN_TOKEN, API_KEY, "sk-or-soak-secret", "All good", "word3", "params:"]) expect(logs).not.toContain(secret);
    expect(logs.match(/[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}/g) ?? []).toEqual([]);
  }, 240_000);
});
