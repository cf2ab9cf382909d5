import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../support/db.js";
import { createSession, readSse, startParley, type Client, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/** The person's conversations: listed with a title and a count, searched, renamed, deleted and restored. */

type Summary = { id: string; title: string | null; defaultTitle: string | null; messageCount: number; lastMessage: string | null };
type ErrorBody = { error: { code: string; message: string } };

describe.each(["pglite", "postgres"] as const)("your conversations on %s", (kind) => {
  let upstream: ScriptedUpstream;
  let parley: ParleyProcess;
  let pg: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    upstream = await ScriptedUpstream.start();
    pg = kind === "postgres" ? await createTestDatabase(inject("postgresUrl")) : undefined;
    parley = await startParley({ env: { OPENROUTER_BASE_URL: upstream.baseUrl, OPENROUTER_API_KEY: "sk-or-conv", DATABASE_URL: pg?.url, RATE_LIMIT_PER_MIN: "100000" } });
  });
  afterAll(async () => {
    await parley?.stop();
    await upstream?.close();
    await pg?.drop();
  });

  const say = async (c: Client, session: string, content: string, reply: string) => {
    upstream.enqueue({ kind: "stream", chunks: [reply] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) }));
    expect(events.at(-1)!.event).toBe("done");
  };
  const list = async (c: Client, q?: string) => (await c.json<{ sessions: Summary[] }>(`/api/sessions${q === undefined ? "" : `?q=${encodeURIComponent(q)}`}`)).body.sessions;

  it("lists each conversation with a default title from its first message, its message count and last line; search finds text in any message", async () => {
    const c = parley.client();
    const first = await createSession(c);
    await say(c, first, "I want my money back for the blender", "Let me look into the order.");
    await say(c, first, "It broke after a week", "That should not happen. 100% refund?");
    const second = await createSession(c);
    await say(c, second, "Hello again", "Welcome back.");

    const all = await list(c);
    expect(all.map((s) => s.id)).toEqual([second, first]);
    expect(all[1]).toMatchObject({ title: null, defaultTitle: "I want my money back for the blender", messageCount: 5, lastMessage: "That should not happen. 100% refund?" });
    expect(all[0]).toMatchObject({ defaultTitle: "Hello again", messageCount: 3 });

    // Any message, not only the last line; case-insensitive; LIKE's own characters match themselves.
    expect((await list(c, "BLENDER")).map((s) => s.id)).toEqual([first]);
    expect((await list(c, "a week")).map((s) => s.id)).toEqual([first]);
    expect((await list(c, "100%")).map((s) => s.id)).toEqual([first]);
    expect(await list(c, "_%")).toEqual([]);
    expect(await list(c, "nothing like this")).toEqual([]);
    // Another client sees none of them.
    expect(await list(parley.client(), "blender")).toEqual([]);
    const tooLong = await c.json<ErrorBody>(`/api/sessions?q=${"x".repeat(201)}`);
    expect(tooLong).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });

  it("renames a conversation, and an empty title brings the default back", async () => {
    const c = parley.client();
    const session = await createSession(c);
    await say(c, session, "About the lease", "Go on.");
    expect((await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "  The lease, round two " }) })).status).toBe(200);
    expect((await list(c))[0]).toMatchObject({ title: "The lease, round two", defaultTitle: "About the lease" });
    expect((await list(c, "round two")).map((s) => s.id)).toEqual([session]);
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "" }) });
    expect((await list(c))[0]!.title).toBeNull();
    const long = await c.json<ErrorBody>(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "t".repeat(121) }) });
    expect(long).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringContaining("120") } } });
    expect((await parley.client().json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "mine" }) })).status).toBe(404);
  });

  it("deletes a conversation from the list and from reach, and restore brings it back whole", async () => {
    const c = parley.client();
    const session = await createSession(c);
    await say(c, session, "Keep this safe", "I will.");
    expect((await parley.client().json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(404);
    expect((await c.json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(200);
    expect(await list(c)).toEqual([]);
    expect((await c.json<ErrorBody>(`/api/sessions/${session}`)).status).toBe(404);
    const send = await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "still there?" }) });
    expect(send.status).toBe(404);
    expect((await c.json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(404);

    expect((await parley.client().json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await c.json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(200);
    const back = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(back.body.session.messages.map((m) => m.content).slice(1)).toEqual(["Keep this safe", "I will."]);
    expect((await list(c)).map((s) => s.id)).toEqual([session]);
    expect((await c.json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
  });
});
