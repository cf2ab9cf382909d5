import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { cookieClient, createSession, readSse, readUntil, startParley, type Client, type ParleyProcess } from "../support/parley.js";
import { startTempPostgres, userIds, type TempPostgres } from "../support/postgres.js";
import { ScriptedUpstream } from "../support/upstream.js";
import { classifyDatabaseError } from "../../server/db/failures.js";

/**
 * Bad luck rather than attackers: the database stops mid-reply, Parley is killed mid-reply, the
 * embedded database's folder turns read-only. Nothing the person saw is lost, no conversation
 * stays locked, and every failure says what it is.
 */

type ErrorBody = { error: { code: string; message: string } };
type View = { session: { messages: { role: string; content: string; finishReason: string | null }[] } };
const CHUNKS = ["One ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight."];
const FIRST_FIVE = CHUNKS.slice(0, 5).join("");

let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await ScriptedUpstream.start();
});
afterAll(() => upstream?.close());
afterEach(() => upstream.reset());

const baseEnv = () => ({
  OPENROUTER_BASE_URL: upstream.baseUrl,
  OPENROUTER_API_KEY: "sk-or-outage",
  RATE_LIMIT_PER_MIN: "100000",
  // Saved often, so a test waits little for a save to have happened.
  REPLY_SAVE_INTERVAL_MS: "200",
});

const send = (c: Client, session: string, content: string) =>
  c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) });

/** Waits until the reply being written has been saved with at least `text`. */
async function savedSoFar(c: Client, session: string, text: string) {
  await vi.waitFor(
    async () => {
      const { body } = await c.json<View>(`/api/sessions/${session}`);
      const last = body.session.messages.at(-1)!;
      expect(last.role).toBe("assistant");
      expect(last.content).toBe(text);
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe("Postgres stops mid-reply", () => {
  let pg: TempPostgres;
  let parley: ParleyProcess;
  beforeAll(async () => {
    pg = await startTempPostgres();
    parley = await startParley({ env: { ...baseEnv(), DATABASE_URL: pg.url } });
  });
  afterAll(async () => {
    await parley?.stop();
    pg?.stop();
  });

  it("answers 503 db_unavailable, ends the stream with an error, stores the reply once it is back, and leaves no lock", async () => {
    const c = parley.client();
    const session = await createSession(c);
    upstream.enqueue({ kind: "stream", chunks: CHUNKS, pauseAfter: 5 });
    const stream = sseReader(await send(c, session, "Tell me a story."));
    await stream.until("five");
    await savedSoFar(c, session, FIRST_FIVE);

    pg.halt();
    const read = await c.json<ErrorBody>(`/api/sessions/${session}`);
    expect(read).toMatchObject({ status: 503, body: { error: { code: "db_unavailable" } } });
    expect(read.body.error.message).toMatch(/database/i);
    const created = await c.json<ErrorBody>("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: "refund-request" }) });
    expect(created.status).toBe(503);
    const health = await c.json<{ status: string; database: { reachable: boolean } }>("/api/health");
    expect(health.body).toMatchObject({ status: "degraded", database: { reachable: false } });

    // The reply goes on to its end; the stream says it is not saved yet, rather than ending silently.
    upstream.resume();
    const rest = await stream.events();
    expect(rest.at(-1)).toMatchObject({ event: "error", data: { code: "not_saved" } });

    pg.start();
    // Once Postgres is back the held reply is stored whole, and the conversation takes the next message.
    await vi.waitFor(
      async () => {
        const { status, body } = await c.json<View>(`/api/sessions/${session}`);
        expect(status).toBe(200);
        expect(body.session.messages.at(-1)).toMatchObject({ role: "assistant", content: CHUNKS.join(""), finishReason: "stop" });
      },
      { timeout: 30_000, interval: 200 },
    );
    const next = await send(c, session, "And then?");
    expect(next.status).toBe(200);
    expect((await readSse(next)).at(-1)!.event).toBe("done");
    await vi.waitFor(async () => expect((await c.json<{ status: string }>("/api/health")).body.status).toBe("ok"), { timeout: 10_000 });
    // The cause was logged once, as a code and a message: whichever code the halt produced (a refused
    // connection, a reset one, Postgres's shutdown), one Parley counts as the database being unreachable.
    const failing = parley.logs.filter((l) => l.includes("database failing")).map((l) => JSON.parse(l) as { code?: string; err?: string });
    expect(failing.some((f) => typeof f.err === "string" && classifyDatabaseError({ code: f.code }) === "unreachable")).toBe(true);
  });
});

/** Starts a reply, waits until five chunks were shown and saved, then kills Parley with SIGKILL. */
async function killMidReply(parley: ParleyProcess) {
  const c = parley.client();
  const session = await createSession(c);
  upstream.enqueue({ kind: "stream", chunks: CHUNKS, pauseAfter: 5 });
  const res = await send(c, session, "Tell me a story.");
  await readUntil(res, "five");
  await savedSoFar(c, session, FIRST_FIVE);
  process.kill(parley.pid, "SIGKILL");
  await parley.stop(); // resolves once the process is gone
  await res.body?.cancel().catch(() => {});
  return { c, session };
}

describe("kill -9 mid-reply", () => {
  it.each(["pglite", "postgres"] as const)("keeps the part the person saw and leaves the conversation open on %s", async (kind) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "parley-kill-"));
    const pg = kind === "postgres" ? await startTempPostgres() : undefined;
    const env = { ...baseEnv(), DATABASE_URL: pg?.url, PARLEY_INSTANCE_ID: "kill-test" };
    let parley = await startParley({ dataDir, env });
    try {
      const { c, session } = await killMidReply(parley);
      parley = await startParley({ dataDir, env });
      const moved = cookieClient(parley.url, c.cookie());

      const { body } = await moved.json<View>(`/api/sessions/${session}`);
      expect(body.session.messages.map((m) => m.role)).toEqual(["assistant", "user", "assistant"]);
      expect(body.session.messages.at(-1)).toMatchObject({ content: FIRST_FIVE, finishReason: "interrupted" });
      // Not locked: the restarted instance released what it held before it died.
      const next = await send(moved, session, "Go on.");
      expect(next.status).toBe(200);
      expect((await readSse(next)).at(-1)!.event).toBe("done");
    } finally {
      await parley.stop();
      pg?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a claim left by an instance that never comes back lapses within seconds", async () => {
    const pg = await startTempPostgres();
    const env = { ...baseEnv(), DATABASE_URL: pg.url };
    let parley = await startParley({ env: { ...env, PARLEY_INSTANCE_ID: "gone-for-good" } });
    try {
      const { c, session } = await killMidReply(parley);
      // Another instance (another id): the dead one's claim is not its own to clear, so it waits for the lapse.
      parley = await startParley({ env: { ...env, PARLEY_INSTANCE_ID: "successor" } });
      const moved = cookieClient(parley.url, c.cookie());
      const first = await send(moved, session, "Hello?");
      expect(first.status).toBe(409);
      expect(((await first.json()) as ErrorBody).error.code).toBe("reply_in_progress");
      await vi.waitFor(
        async () => {
          const again = await send(moved, session, "Hello?");
          expect(again.status).toBe(200);
          expect((await readSse(again)).at(-1)!.event).toBe("done");
        },
        { timeout: 30_000, interval: 1000 },
      );
      const { body } = await moved.json<View>(`/api/sessions/${session}`);
      expect(body.session.messages.filter((m) => m.finishReason === "interrupted")).toHaveLength(1);
    } finally {
      await parley.stop();
      pg.stop();
    }
  });
});

describe("the embedded database's folder turns read-only", () => {
  it("answers 503 with a clear message, shows it in health, logs the cause, and recovers without a restart", async () => {
    const asRoot = process.getuid?.() === 0;
    // As root every file is writable: Parley runs as the postgres user (installed for the tests) so permissions bite.
    const user = asRoot ? userIds("postgres") : undefined;
    const dataDir = mkdtempSync(path.join(tmpdir(), "parley-ro-"));
    if (user) chownSync(dataDir, user.uid, user.gid);
    const env = { ...baseEnv(), HOME: dataDir };
    let parley = await startParley({ dataDir, env, user });
    const chmod = (mode: string) => execFileSync("chmod", ["-R", mode, dataDir]);
    try {
      const c = parley.client();
      const session = await createSession(c);
      // Restarted, so the engine opens the message table's files afresh once the folder is read-only.
      await parley.stop();
      parley = await startParley({ dataDir, env, user });
      const moved = cookieClient(parley.url, c.cookie());
      chmod("a-w");

      const refused = await moved.json<ErrorBody>(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello" }) });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: "db_unavailable", message: expect.stringMatching(/cannot save/) });
      const health = await moved.json<{ status: string; database: { writable: boolean; error?: string } }>("/api/health");
      expect(health.body).toMatchObject({ status: "degraded", database: { writable: false } });
      await vi.waitFor(() => expect(parley.logs.join("\n")).toMatch(/database failing.*"code":"42501"|"code":"42501".*database failing/));

      chmod("u+w");
      await vi.waitFor(
        async () => {
          const sent = await send(moved, session, "Hello again");
          expect(sent.status).toBe(200);
          expect((await readSse(sent)).at(-1)!.event).toBe("done");
        },
        { timeout: 30_000, interval: 500 },
      );
      // Health checks by a real write at most once a second: it says so by the next check.
      await vi.waitFor(async () => expect((await moved.json<{ status: string }>("/api/health")).body.status).toBe("ok"), { timeout: 5_000, interval: 250 });
      expect(parley.logs.join("\n")).toContain("database is back");
    } finally {
      chmod("u+w");
      await parley.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});


/** Reads a reply's events in two steps: up to some text, then the rest to the end. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const more = async () => {
    const { done, value } = await reader.read();
    if (!done) seen += decoder.decode(value, { stream: true });
    return !done;
  };
  return {
    until: async (text: string) => {
      while (!seen.includes(text)) if (!(await more())) throw new Error(`the stream ended before "${text}": ${seen}`);
    },
    events: async () => {
      while (await more());
      return seen
        .split("\n\n")
        .filter((block) => block.includes("data:"))
        .map((block) => {
          const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.replace(/^data: ?/, "")).join("\n");
          return { event, data: JSON.parse(data) };
        });
    },
  };
}
