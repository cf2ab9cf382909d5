import { describe, expect, it } from "vitest";
import { useChatStack } from "../support/chat-stack.js";
import { createSession, readSse, type Client } from "../support/parley.js";

/** The person's conversations: listed with a title and a count, searched, renamed, deleted and restored. */

type Summary = { id: string; title: string | null; defaultTitle: string | null; messageCount: number; lastMessage: string | null };
type ErrorBody = { error: { code: string; message: string } };
const lines0 = (jsonl: string) => jsonl.split(/\r?\n/)[0]!;

const ADMIN_TOKEN = "conversations-admin-token-0123456789";

describe.each(["pglite", "postgres"] as const)("your conversations on %s", (kind) => {
  const stack = useChatStack(kind, "sk-or-conv", { ADMIN_TOKEN });
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.parley.url}/api/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" } });

  const say = async (c: Client, session: string, content: string, reply: string) => {
    stack.upstream.enqueue({ kind: "stream", chunks: [reply] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) }));
    expect(events.at(-1)!.event).toBe("done");
  };
  const list = async (c: Client, q?: string) => (await c.json<{ sessions: Summary[] }>(`/api/sessions${q === undefined ? "" : `?q=${encodeURIComponent(q)}`}`)).body.sessions;

  it("lists each conversation with a default title from its first message, its message count and last line; search finds text in any message", async () => {
    const c = stack.parley.client();
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
    expect(await list(stack.parley.client(), "blender")).toEqual([]);
    const tooLong = await c.json<ErrorBody>(`/api/sessions?q=${"x".repeat(201)}`);
    expect(tooLong).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });

  it("renames a conversation, and an empty title brings the default back", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "About the lease", "Go on.");
    expect((await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "  The lease, round two " }) })).status).toBe(200);
    expect((await list(c))[0]).toMatchObject({ title: "The lease, round two", defaultTitle: "About the lease" });
    expect((await list(c, "round two")).map((s) => s.id)).toEqual([session]);
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "" }) });
    expect((await list(c))[0]!.title).toBeNull();
    const long = await c.json<ErrorBody>(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "t".repeat(121) }) });
    expect(long).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringContaining("120") } } });
    expect((await stack.parley.client().json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ title: "mine" }) })).status).toBe(404);
  });

  it("deletes a conversation from the list and from reach, and restore brings it back whole", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "Keep this safe", "I will.");
    expect((await stack.parley.client().json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(404);
    expect((await c.json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(200);
    expect(await list(c)).toEqual([]);
    expect((await c.json<ErrorBody>(`/api/sessions/${session}`)).status).toBe(404);
    const send = await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "still there?" }) });
    expect(send.status).toBe(404);
    expect((await c.json(`/api/sessions/${session}`, { method: "DELETE" })).status).toBe(404);

    expect((await stack.parley.client().json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await c.json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(200);
    const back = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(back.body.session.messages.map((m) => m.content).slice(1)).toEqual(["Keep this safe", "I will."]);
    expect((await list(c)).map((s) => s.id)).toEqual([session]);
    expect((await c.json(`/api/sessions/${session}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("stay open when their scenario is taken out of the gallery: read and go on with, while no new one starts", async () => {
    const created = await admin("/scenarios", {
      method: "POST",
      body: JSON.stringify({
        slug: "soon-gone",
        title: "Soon Gone",
        characterName: "Wren",
        description: "A scenario an admin will hide.",
        category: "story",
        openingMessage: "Hello, traveller.",
        avatarStyle: "pixel-art",
        avatarSeed: "wren",
        systemPrompt: "You are Wren.",
        isActive: true,
      }),
    });
    expect(created.status).toBe(201);
    const { scenario } = (await created.json()) as { scenario: { id: string } };
    const c = stack.parley.client();
    const session = await createSession(c, "soon-gone");
    await say(c, session, "Where does this road go?", "North, to the sea.");
    const other = stack.parley.client();
    const unused = await createSession(other, "soon-gone");
    expect((await other.json(`/api/sessions/${unused}`, { method: "DELETE" })).status).toBe(200);

    expect((await admin(`/scenarios/${scenario.id}`, { method: "PATCH", body: JSON.stringify({ isActive: false }) })).status).toBe(200);
    const gallery = await c.json<{ scenarios: { slug: string }[] }>("/api/scenarios");
    expect(gallery.body.scenarios.map((s) => s.slug)).not.toContain("soon-gone");
    // The person with a conversation still opens the scenario, marked withdrawn; nobody else does,
    // nor someone whose only conversation with it is deleted.
    const opened = await c.json<{ scenario: { slug: string; withdrawn: boolean; systemPrompt?: string } }>("/api/scenarios/soon-gone");
    expect(opened.status).toBe(200);
    expect(opened.body.scenario).toMatchObject({ slug: "soon-gone", withdrawn: true });
    expect(opened.body.scenario.systemPrompt).toBeUndefined();
    expect((await stack.parley.client().json("/api/scenarios/soon-gone")).status).toBe(404);
    expect((await other.json("/api/scenarios/soon-gone")).status).toBe(404);

    // The conversation is listed, opens whole, and goes on.
    expect((await list(c)).map((s) => s.id)).toContain(session);
    const thread = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(thread.body.session.messages.map((m) => m.content)).toEqual(["Hello, traveller.", "Where does this road go?", "North, to the sea."]);
    await say(c, session, "And after the sea?", "Islands.");
    // A new one does not start.
    const fresh = await c.json<ErrorBody>("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: "soon-gone" }) });
    expect(fresh).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });

    // Offered again, it is no longer marked.
    expect((await admin(`/scenarios/${scenario.id}`, { method: "PATCH", body: JSON.stringify({ isActive: true }) })).status).toBe(200);
    expect((await c.json<{ scenario: { withdrawn: boolean } }>("/api/scenarios/soon-gone")).body.scenario.withdrawn).toBe(false);
  });

  it("a persona: {{user}} and {{char}} resolve in what the model reads, its description follows the system prompt, and a conversation may have its own", async () => {
    const c = stack.parley.client();
    expect((await c.json<{ persona: null }>("/api/persona")).body.persona).toBeNull();
    const session = await createSession(c);
    // Without a persona, {{user}} is "User".
    await say(c, session, "Hello {{char}}, it is {{USER}} here", "Hello.");
    let sent = stack.upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("Hello Dana Whitfield, it is User here");
    expect(sent[0]!.content).not.toContain("the person you are talking with");

    const bad = await c.json<ErrorBody>("/api/persona", { method: "PUT", body: JSON.stringify({ name: " ", description: "" }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_request", message: expect.stringContaining("name") } } });
    const saved = await c.json("/api/persona", { method: "PUT", body: JSON.stringify({ name: "Sam", description: "A night-shift nurse who hates small talk." }) });
    expect(saved.status).toBe(200);
    expect((await c.json<{ persona: { name: string } }>("/api/persona")).body.persona).toEqual({ name: "Sam", description: "A night-shift nurse who hates small talk." });
    expect((await stack.parley.client().json<{ persona: null }>("/api/persona")).body.persona).toBeNull();

    await say(c, session, "Still me, <USER>, talking to <BOT>", "Yes.");
    sent = stack.upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("Still me, Sam, talking to Dana Whitfield");
    // Earlier messages keep their macros as written, and are read with the persona of now.
    expect(sent.some((m) => m.content === "Hello Dana Whitfield, it is Sam here")).toBe(true);
    expect(sent[0]!.content).toMatch(/\n\nAbout Sam, the person you are talking with: A night-shift nurse who hates small talk\.$/);
    let view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Sam" }, ownPersona: false });

    // This conversation only: another persona; null brings the usual one back.
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ persona: { name: "Alex", description: "" } }) });
    await say(c, session, "I am {{user}}", "Noted.");
    sent = stack.upstream.requests.at(-1)!.body.messages;
    expect(sent.at(-1)!.content).toBe("I am Alex");
    expect(sent[0]!.content).not.toContain("night-shift");
    view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Alex" }, ownPersona: true });
    const other = await createSession(c);
    await say(c, other, "{{user}} again", "Hi.");
    expect(stack.upstream.requests.at(-1)!.body.messages.at(-1)!.content).toBe("Sam again");
    await c.json(`/api/sessions/${session}`, { method: "PATCH", body: JSON.stringify({ persona: null }) });
    view = (await c.json<{ session: { persona: { name: string } | null; ownPersona: boolean } }>(`/api/sessions/${session}`)).body.session;
    expect(view).toMatchObject({ persona: { name: "Sam" }, ownPersona: false });
    const nothing = await c.json<ErrorBody>(`/api/sessions/${session}`, { method: "PATCH", body: "{}" });
    expect(nothing).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });

  it("exports a conversation as SillyTavern JSONL (swipes beside each reply) and Markdown, and importing the file gives the same thread back", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1 with {{char}}", "a1");
    const [, , a1] = (await c.json<{ session: { messages: { id: string }[] } }>(`/api/sessions/${session}`)).body.session.messages;
    stack.upstream.enqueue({ kind: "stream", chunks: ["a1, swiped"] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages/${a1!.id}/regenerate`, { method: "POST", body: "{}" }));
    await say(c, session, "u2", "a2");

    const res = await c.fetch(`/api/sessions/${session}/export?format=jsonl`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename=".+\.jsonl"/);
    const jsonl = await res.text();
    const lines = jsonl.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ user_name: "User", character_name: "Dana Whitfield" });
    expect(lines.slice(1).map((l) => l.mes)).toEqual([expect.any(String), "u1 with {{char}}", "a1, swiped", "u2", "a2"]);
    expect(lines[3]).toMatchObject({ is_user: false, swipes: ["a1", "a1, swiped"], swipe_id: 1 });
    expect(lines[2]).toMatchObject({ is_user: true, name: "User" });

    const md = await (await c.fetch(`/api/sessions/${session}/export?format=markdown`)).text();
    expect(md).toContain("**User:** u1 with Dana Whitfield");
    expect(md).toContain("**Dana Whitfield:** a1, swiped");
    expect((await stack.parley.client().fetch(`/api/sessions/${session}/export`)).status).toBe(404);
    expect((await c.json<ErrorBody>(`/api/sessions/${session}/export?format=docx`)).status).toBe(400);

    const imported = await c.json<{ session: { id: string; messages: { id: string; content: string; siblings?: string[] }[] } }>("/api/sessions/import", {
      method: "POST",
      body: JSON.stringify({ scenario: "refund-request", jsonl }),
    });
    expect(imported.status).toBe(201);
    const copy = imported.body.session;
    expect(copy.id).not.toBe(session);
    expect(copy.messages.map((m) => m.content)).toEqual(lines.slice(1).map((l) => l.mes));
    expect(copy.messages[2]!.siblings).toHaveLength(2);
    // The other swipe is a version away, as in SillyTavern.
    const other = copy.messages[2]!.siblings!.find((id) => id !== copy.messages[2]!.id)!;
    const switched = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${copy.id}/messages/${other}/select`, { method: "POST", body: "{}" });
    expect(switched.body.session.messages.map((m) => m.content).slice(-2)).toEqual(["u1 with {{char}}", "a1"]);
    // And the copy exports to the same file.
    const again = await (await c.fetch(`/api/sessions/${copy.id}/messages/${copy.messages[2]!.id}/select`, { method: "POST", body: "{}" })).text();
    expect(again).toContain("a2");
    const reExported = (await (await c.fetch(`/api/sessions/${copy.id}/export`)).text()).trim().split("\n").slice(1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(reExported.map((l) => [l.mes, l.swipes, l.swipe_id])).toEqual(lines.slice(1).map((l) => [l.mes, l.swipes, l.swipe_id]));
  });

  it("imports a chat as SillyTavern writes it, and refuses a malformed file with the line at fault, creating nothing", async () => {
    const c = stack.parley.client();
    const st = [
      { user_name: "Ray", character_name: "Dana", create_date: "2024-6-5 @15h 05m 10s 123ms", chat_metadata: { note_prompt: "" } },
      { name: "Dana", is_user: false, is_system: false, send_date: "June 5, 2024 3:05pm", mes: "Hi.", swipes: ["Hello.", "Hi."], swipe_id: 1, swipe_info: [], extra: {} },
      { name: "Ray", is_user: true, send_date: "June 5, 2024 3:06pm", mes: "Hey {{char}}", extra: { bias: null } },
      { name: "System", is_user: false, is_system: true, mes: "[hidden note]", extra: { type: "narrator" } },
      { name: "Dana", is_user: false, send_date: 1717600000000, mes: "Well?", gen_started: "x", extra: { api: "openai" } },
    ]
      .map((l) => JSON.stringify(l))
      .join("\r\n");
    const ok = await c.json<{ session: { messages: { content: string; finishReason: string | null; siblings?: string[] }[] } }>("/api/sessions/import", {
      method: "POST",
      body: JSON.stringify({ scenario: "refund-request", jsonl: st, title: "From SillyTavern" }),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.session.messages.map((m) => m.content)).toEqual(["Hi.", "Hey {{char}}", "Well?"]);
    expect(ok.body.session.messages[0]).toMatchObject({ finishReason: "opening", siblings: [expect.any(String), expect.any(String)] });
    expect((await list(c)).find((s) => s.title === "From SillyTavern")?.messageCount).toBe(4);

    // A whole story is larger than one message's body limit (64 KB): imports have their own.
    const big = [lines0(st), ...Array.from({ length: 300 }, (_, i) => JSON.stringify({ name: "x", is_user: i % 2 === 1, mes: `${i} ${"words ".repeat(100)}` }))].join("\n");
    expect(big.length).toBeGreaterThan(150_000);
    expect((await c.json("/api/sessions/import", { method: "POST", body: JSON.stringify({ scenario: "refund-request", jsonl: big }) })).status).toBe(201);

    const count = (await list(c)).length;
    const bad = async (jsonl: string, scenario = "refund-request") =>
      c.json<ErrorBody>("/api/sessions/import", { method: "POST", body: JSON.stringify({ scenario, jsonl }) });
    const lines = st.split("\r\n");
    expect(await bad([lines[0], lines[1], "{not json", lines[2]].join("\n"))).toMatchObject({ status: 400, body: { error: { code: "invalid_chat_file", message: expect.stringContaining("Line 3") } } });
    expect(await bad([lines[0], JSON.stringify({ is_user: "yes", mes: 3 })].join("\n"))).toMatchObject({ status: 400, body: { error: { code: "invalid_chat_file", message: expect.stringContaining("Line 2") } } });
    expect(await bad(lines.slice(1).join("\n"))).toMatchObject({ status: 400, body: { error: { code: "invalid_chat_file", message: expect.stringContaining("header") } } });
    expect(await bad(lines[0]!)).toMatchObject({ status: 400, body: { error: { code: "invalid_chat_file" } } });
    expect(await bad(st, "no-such-scenario")).toMatchObject({ status: 404 });
    expect((await list(c)).length).toBe(count);
  });
});
