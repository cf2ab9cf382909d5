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

  it("a persona: {{user}} and {{char}} resolve in what the model reads, its description follows the system prompt, and a conversation may have its own", async () => {
    const c = parley.client();
    expect((await c.json<{ persona: null }>("/api/persona")).body.persona).toBeNull();
    const session = await createSession(c);
    // Without a persona, {{user}} is "User".
    await say(c, session, "Hello {{char}}, it is {{USER}} here", "Hello.");
    let sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("Hello Dana Whitfield, it is User here");
    expect(sent[0]!.content).not.toContain("the person you are talking with");

    const bad = await c.json<ErrorBody>("/api/persona", { method: "PUT", body: JSON.stringify({ name: " ", description: "" }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringContaining("name") } } });
    const saved = await c.json("/api/persona", { method: "PUT", body: JSON.stringify({ name: "Sam", description: "A night-shift nurse who hates small talk." }) });
    expect(saved.status).toBe(200);
    expect((await c.json<{ persona: { name: string } }>("/api/persona")).body.persona).toEqual({ name: "Sam", description: "A night-shift nurse who hates small talk." });
    expect((await parley.client().json<{ persona: null }>("/api/persona")).body.persona).toBeNull();

    await say(c, session, "Still me, <USER>, talking to <BOT>", "Yes.");
    sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("Still me, Sam, talking to Dana Whitfield");
    // Earlier messages keep their macros as written, and are read with the persona of now.
    expect(sent.some((m) => m.content === "Hello Dana Whitfield, it is Sam here")).toBe(true);
    expect(sent[0]!.content).toMatch(/\n\nAbout Sam, the person you are talking with: A night-shift nurse who hates small talk\.$/);
    let view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Sam" }, ownPersona: false });

    // This conversation only: another persona; null brings the usual one back.
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ persona: { name: "Alex", description: "" } }) });
    await say(c, session, "I am {{user}}", "Noted.");
    sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("I am Alex");
    expect(sent[0]!.content).not.toContain("night-shift");
    view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Alex" }, ownPersona: true });
    const other = await createSession(c);
    await say(c, other, "{{user}} again", "Hi.");
    expect(upstream.requests.at(-1)!.body.messages.at(-1)!.content).toBe("Sam again");
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ persona: null }) });
    view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Sam" }, ownPersona: false });
    const nothing = await c.json<ErrorBody>(`/api/sessions/${session}`, { method: "PATCH", body: "{}" });
    expect(nothing).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });
});
