import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { useChatStack } from "../support/chat-stack.js";
import { openDatabase } from "../../server/db/client.js";
import { olderDatabase, rowsOf } from "../support/older-schema.js";
import { HAIKU, SONNET, registryReloaded, startGatewayStack, type GatewayStack } from "../support/gateway.js";
import { createSession, readSse, type Client } from "../support/parley.js";

/**
 * Conversations as trees: every message has a parent, a session remembers its leaf, and the
 * thread is the path from the leaf up. Existing conversations migrate into that shape, and a
 * reply can be swiped (another reply beside it) anywhere, then switched back to.
 */

type Row = { id: string; parent_id: string | null; content: string };

describe.each(["pglite", "postgres"] as const)("existing conversations on %s", (kind) => {
  it("become chains, with each regenerated reply a sibling of the one that replaced it, and the leaf at the last visible message", async () => {
    // As an older Parley left it: migrations up to 0004, and a conversation with a regenerated reply.
    const older = await olderDatabase(kind, "0005", inject("postgresUrl"));
    const { exec } = older;
    try {
      // A scenario as that schema had it (today's seed writes columns it did not have yet).
      await exec(sql`insert into scenarios (slug, title, character_name, description, category, opening_message, avatar_style, avatar_seed, system_prompt)
        values ('refund-request', 'The Refund Request', 'Dana', 'An upset customer', 'practice', 'opening', 'avataaars', 'dana', 'You are Dana.')`);
      await exec(sql`insert into sessions (id, client_id, scenario_id) select '00000000-0000-4000-8000-000000000001', 'old-client', id from scenarios where slug = 'refund-request'`);
      const add = (n: number, role: string, content: string, superseded = false, finish: string | null = "stop") =>
        exec(sql`insert into messages (id, session_id, role, content, finish_reason, superseded_at)
          values (${`00000000-0000-4000-8000-0000000001${String(n).padStart(2, "0")}`}, '00000000-0000-4000-8000-000000000001', ${role}, ${content}, ${finish}, ${superseded ? sql`now()` : null})`);
      await add(0, "assistant", "opening", false, "opening");
      await add(1, "user", "u1");
      await add(2, "assistant", "a1");
      await add(3, "user", "u2");
      await add(4, "assistant", "a2 (replaced)", true);
      await add(5, "assistant", "a2 (replaced again)", true);
      await add(6, "assistant", "a2");
      await older.close();

      // The current Parley opens it: migration 0005 turns it into a tree.
      const handle = await openDatabase({ databaseUrl: older.databaseUrl, dataDir: older.dataDir });
      const rows = rowsOf<Row>(await handle.db.execute(sql`select id, parent_id, content from messages order by seq`));
      const id = (content: string) => rows.find((r) => r.content === content)!.id;
      const parentOf = (content: string) => rows.find((r) => r.content === content)!.parent_id;
      expect(parentOf("opening")).toBeNull();
      expect(parentOf("u1")).toBe(id("opening"));
      expect(parentOf("a1")).toBe(id("u1"));
      expect(parentOf("u2")).toBe(id("a1"));
      // Both replaced replies answer u2, beside the one that replaced them.
      expect(parentOf("a2 (replaced)")).toBe(id("u2"));
      expect(parentOf("a2 (replaced again)")).toBe(id("u2"));
      expect(parentOf("a2")).toBe(id("u2"));
      const leafRows = rowsOf<{ leaf_id: string }>(await handle.db.execute(sql`select leaf_id from sessions`));
      expect(leafRows[0]!.leaf_id).toBe(id("a2"));
      await handle.close();
    } finally {
      await older.dispose();
    }
  });
});

type MessageJson = { id: string; role: string; content: string; parentId: string | null; siblings?: string[]; editedAt: string | null; finishReason: string | null; contextFromId: string | null };
type View = { session: { messages: MessageJson[]; olderCursor: string | null } };
type Page = { messages: MessageJson[]; olderCursor: string | null };
type ErrorBody = { error: { code: string } };

describe.each(["pglite", "postgres"] as const)("swipes on %s", (kind) => {
  const stack = useChatStack(kind, "sk-or-tree");

  const say = async (c: Client, session: string, content: string, reply: string) => {
    stack.upstream.enqueue({ kind: "stream", chunks: [reply] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) }));
    expect(events.at(-1)!.event).toBe("done");
  };
  const thread = async (c: Client, session: string) => (await c.json<View>(`/api/sessions/${session}`)).body.session.messages;

  it("another reply to a middle message becomes its sibling; switching back brings the branch below it back", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    await say(c, session, "u2", "a2");
    const before = await thread(c, session);
    expect(before.map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);
    const a1 = before[2]!;

    // Swipe on a1, in the middle of the thread: the model sees the thread up to u1 only.
    stack.upstream.enqueue({ kind: "stream", chunks: ["a1, again"] });
    const swiped = await readSse(await c.fetch(`/api/sessions/${session}/messages/${a1.id}/regenerate`, { method: "POST", body: "{}" }));
    expect(swiped.at(-1)).toMatchObject({ event: "done", data: { message: { content: "a1, again", parentId: a1.parentId } } });
    expect(stack.upstream.requests.at(-1)!.body.messages.map((m) => m.content).slice(-1)).toEqual(["u1"]);

    const after = await thread(c, session);
    expect(after.map((m) => m.content).slice(1)).toEqual(["u1", "a1, again"]);
    expect(after.at(-1)!.siblings).toEqual([a1.id, after.at(-1)!.id]);

    // Back to a1: the branch that was below it (u2, a2) returns.
    const back = await c.json<View>(`/api/sessions/${session}/messages/${a1.id}/select`, { method: "POST", body: "{}" });
    expect(back.status).toBe(200);
    expect(back.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);
    expect(back.body.session.messages[2]!.siblings).toHaveLength(2);

    // A new message goes below the branch the person is on, and nothing else moved.
    await say(c, session, "u3", "a3");
    expect((await thread(c, session)).map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2", "u3", "a3"]);
    const other = (await c.json<View>(`/api/sessions/${session}/messages/${after.at(-1)!.id}/select`, { method: "POST", body: "{}" })).body;
    expect(other.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1, again"]);
  });

  it("switching back to a version brings back the branch the person left there, not the newest one below it", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    await say(c, session, "u2", "a2");
    const [, , a1, , a2] = await thread(c, session);
    stack.upstream.enqueue({ kind: "stream", chunks: ["a2b"] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages/${a2!.id}/regenerate`, { method: "POST", body: "{}" }));
    // Back to a2 (the older version); then a1 is swiped, leaving the branch u2 → a2.
    await c.json(`/api/sessions/${session}/messages/${a2!.id}/select`, { method: "POST", body: "{}" });
    stack.upstream.enqueue({ kind: "stream", chunks: ["a1b"] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages/${a1!.id}/regenerate`, { method: "POST", body: "{}" }));
    expect((await thread(c, session)).map((m) => m.content).slice(1)).toEqual(["u1", "a1b"]);
    // The newest message below a1 is a2b; the person was at a2, so a2 it is.
    const back = await c.json<View>(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" });
    expect(back.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);
  });

  it("opens a long thread at its newest page and reads older pages up to the opening, each with a cursor", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    for (let i = 0; i < 30; i++) await say(c, session, `u${i}`, `a${i}`);
    const opened = (await c.json<View>(`/api/sessions/${session}`)).body.session;
    // 61 messages: the newest 50, and a cursor to the rest.
    expect(opened.messages).toHaveLength(50);
    expect(opened.messages.at(-1)!.content).toBe("a29");
    expect(opened.olderCursor).toBe(opened.messages[0]!.id);
    const older = await c.json<Page>(`/api/sessions/${session}/messages?before=${opened.olderCursor}`);
    expect(older.status).toBe(200);
    expect(older.body.messages).toHaveLength(11);
    expect(older.body.messages[0]!.finishReason).toBe("opening");
    expect(older.body.olderCursor).toBeNull();
    // The pages join up: the newest of the older page is the parent of the oldest shown.
    expect(older.body.messages.at(-1)!.id).toBe(opened.messages[0]!.parentId);
    const small = await c.json<Page>(`/api/sessions/${session}/messages?before=${opened.olderCursor}&limit=4`);
    expect(small.body.messages.map((m) => m.content)).toEqual(["u3", "a3", "u4", "a4"]);
    expect(small.body.olderCursor).toBe(small.body.messages[0]!.id);

    const bad = await c.json<ErrorBody>(`/api/sessions/${session}/messages?before=nope`);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect((await c.json<ErrorBody>(`/api/sessions/${session}/messages?before=${opened.olderCursor}&limit=5000`)).status).toBe(400);
    expect((await stack.parley.client().json<ErrorBody>(`/api/sessions/${session}/messages?before=${opened.olderCursor}`)).status).toBe(404);
    const other = await createSession(c);
    expect((await c.json<ErrorBody>(`/api/sessions/${other}/messages?before=${opened.olderCursor}`)).status).toBe(404);
  });

  it("editing the person's message makes a new version and answers it; editing a character's line makes a version marked edited", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    await say(c, session, "u2", "a2");
    const [, u1, a1] = await thread(c, session);

    stack.upstream.enqueue({ kind: "stream", chunks: ["answer to the edit"] });
    const edited = await c.fetch(`/api/sessions/${session}/messages/${u1!.id}/edit`, { method: "POST", body: JSON.stringify({ content: "u1, better put" }) });
    const events = await readSse(edited);
    expect(events[0]).toMatchObject({ event: "start", data: { userMessage: { content: "u1, better put", parentId: u1!.parentId } } });
    expect(events.at(-1)).toMatchObject({ event: "done", data: { message: { content: "answer to the edit" } } });
    // The model saw the thread up to the edited message, not what followed the original.
    expect(stack.upstream.requests.at(-1)!.body.messages.map((m) => m.content).slice(1)).toEqual([expect.any(String), "u1, better put"]);
    let now = await thread(c, session);
    expect(now.map((m) => m.content).slice(1)).toEqual(["u1, better put", "answer to the edit"]);
    expect(now[1]!.siblings).toEqual([u1!.id, now[1]!.id]);

    // The original is a version away, with everything that followed it.
    const back = await c.json<View>(`/api/sessions/${session}/messages/${u1!.id}/select`, { method: "POST", body: "{}" });
    expect(back.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);

    const rewritten = await c.json<View>(`/api/sessions/${session}/messages/${a1!.id}/edit`, { method: "POST", body: JSON.stringify({ content: "a1, as I would have it" }) });
    expect(rewritten.status).toBe(200);
    now = rewritten.body.session.messages;
    expect(now.at(-1)).toMatchObject({ content: "a1, as I would have it", editedAt: expect.any(String), parentId: a1!.parentId });
    expect(now.at(-1)!.siblings).toEqual([a1!.id, now.at(-1)!.id]);
    const empty = await c.json<ErrorBody>(`/api/sessions/${session}/messages/${a1!.id}/edit`, { method: "POST", body: JSON.stringify({ content: "  " }) });
    expect(empty).toMatchObject({ status: 400, body: { error: { code: "empty_message" } } });
  });

  it("deleting takes a message and its branch out of the thread, to the newest other version or its parent; restore undoes it", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    await say(c, session, "u2", "a2");
    const [opening, u1, a1, u2] = await thread(c, session);

    // u2 has no other version: the thread ends at a1.
    const gone = await c.json<View>(`/api/sessions/${session}/messages/${u2!.id}`, { method: "DELETE" });
    expect(gone.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1"]);
    const undone = await c.json<View>(`/api/sessions/${session}/messages/${u2!.id}/restore`, { method: "POST", body: "{}" });
    expect(undone.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);

    // A reply with another version: the thread moves to that one, and the deleted one is no longer counted.
    stack.upstream.enqueue({ kind: "stream", chunks: ["a1, again"] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages/${a1!.id}/regenerate`, { method: "POST", body: "{}" }));
    await c.json(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" });
    const moved = await c.json<View>(`/api/sessions/${session}/messages/${a1!.id}`, { method: "DELETE" });
    expect(moved.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1, again"]);
    expect(moved.body.session.messages.at(-1)!.siblings).toBeUndefined();
    expect((await c.json(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" })).status).toBe(404);

    const opened = await c.json<ErrorBody>(`/api/sessions/${session}/messages/${opening!.id}`, { method: "DELETE" });
    expect(opened).toMatchObject({ status: 400, body: { error: { code: "cannot_delete_opening" } } });
    expect((await stack.parley.client().json(`/api/sessions/${session}/messages/${u1!.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await c.json(`/api/sessions/${session}/messages/${u1!.id}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("continues in a new conversation from any message: the thread up to it is copied, the original untouched", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    await say(c, session, "u2", "a2");
    const [, , a1] = await thread(c, session);
    const forked = await c.json<{ session: View["session"] & { id: string } }>(`/api/sessions/${session}/messages/${a1!.id}/fork`, { method: "POST", body: "{}" });
    expect(forked.status).toBe(201);
    expect(forked.body.session.id).not.toBe(session);
    expect(forked.body.session.messages.map((m) => m.content).slice(1)).toEqual(["u1", "a1"]);
    expect(forked.body.session.messages.every((m) => !a1 || m.id !== a1.id)).toBe(true);
    await say(c, forked.body.session.id, "u2, elsewhere", "a2, elsewhere");
    expect((await thread(c, forked.body.session.id)).map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2, elsewhere", "a2, elsewhere"]);
    expect((await thread(c, session)).map((m) => m.content).slice(1)).toEqual(["u1", "a1", "u2", "a2"]);
    const list = await c.json<{ sessions: { id: string }[] }>("/api/sessions");
    expect(list.body.sessions.map((x) => x.id)).toEqual(expect.arrayContaining([session, forked.body.session.id]));
    expect((await stack.parley.client().json(`/api/sessions/${session}/messages/${a1!.id}/fork`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("another client's session or message is not found, and a change waits for no reply: 409 while one streams", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    await say(c, session, "u1", "a1");
    const [, , a1] = await thread(c, session);
    const stranger = stack.parley.client();
    expect((await stranger.json<ErrorBody>(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await stranger.json<ErrorBody>(`/api/sessions/${session}/messages/${a1!.id}/regenerate`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await c.json<ErrorBody>(`/api/sessions/${session}/messages/00000000-0000-4000-8000-000000000000/select`, { method: "POST", body: "{}" })).status).toBe(404);
    // A message of another session, even the caller's own, is not found in this one.
    const second = await createSession(c);
    expect((await c.json<ErrorBody>(`/api/sessions/${second}/messages/${a1!.id}/select`, { method: "POST", body: "{}" })).status).toBe(404);

    stack.upstream.enqueue({ kind: "stream", chunks: ["slow ", "reply"], pauseAfter: 1 });
    const streaming = await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "u2" }) });
    const reader = streaming.body!.getReader();
    let seen = "";
    while (!seen.includes("slow")) seen += new TextDecoder().decode((await reader.read()).value);
    const refused = await c.json<ErrorBody>(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: "reply_in_progress" } } });
    stack.upstream.resume();
    while (!(await reader.read()).done);
    expect((await c.json<View>(`/api/sessions/${session}/messages/${a1!.id}/select`, { method: "POST", body: "{}" })).status).toBe(200);
  });
});

describe("a prompt that fits each model it is sent to", () => {
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-fit" });
    // The default model has a small window (as a local worker's would be); the fallback a large one.
    await stack.db.sql`update api_models set context_length = 700, param_overrides = '{"roleplay": {"max_tokens": 100}}' where model_key = ${HAIKU}`;
    await stack.db.sql`update api_models set context_length = 200000 where model_key = ${SONNET}`;
    await stack.db.sql`update system_config set value = to_jsonb((value)::text::int + 1) where key = 'registry_version'`;
    await registryReloaded(stack.parley, stack.db.sql);
  });
  afterAll(() => stack?.stop());

  it("sends the small model the newest turns it can hold and the large one everything, system prompt first in both", async () => {
    const c = stack.parley.client();
    const session = await createSession(c);
    const long = (i: number) => `Turn ${i}: ${"a fairly long line of role-play text ".repeat(6)}`;
    for (let i = 0; i < 8; i++) {
      stack.upstream.enqueue({ kind: "stream", chunks: [`Reply ${i}: ${"and the character answers at some length ".repeat(5)}`] });
      const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: long(i) }) }));
      expect(events.at(-1)!.event).toBe("done");
    }
    // The small model fails this time, so the large one is tried: each gets what fits it.
    stack.upstream.forModel(HAIKU, { kind: "status", status: 503 });
    const before = stack.upstream.requests.length;
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "And now?" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const [small, large] = stack.upstream.requests.slice(before);
    expect(small!.body.model).toBe(HAIKU);
    expect(large!.body.model).toBe(SONNET);
    for (const r of [small!, large!]) {
      expect(r.body.messages[0]!.role).toBe("system");
      expect(r.body.messages.at(-1)!.content).toBe("And now?");
    }
    // 1 opening + 8 × 2 turns + the new message.
    expect(large!.body.messages).toHaveLength(1 + 1 + 16 + 1);
    expect(small!.body.messages.length).toBeLessThan(large!.body.messages.length);
    expect(small!.body.messages.length).toBeGreaterThan(2);
    // The replies the small model wrote remember where their prompt began (the memory line): the
    // oldest turn it received, not the opening. The large one received it all.
    const shown = (await c.json<View>(`/api/sessions/${session}`)).body.session.messages;
    const smallReply = shown.at(-3)!;
    const sentToSmall = stack.upstream.requests[before - 1]!.body.messages;
    expect(shown.find((m) => m.id === smallReply.contextFromId)!.content).toBe(sentToSmall[1]!.content);
    expect(smallReply.contextFromId).not.toBe(shown[0]!.id);
    expect(shown.at(-1)!.contextFromId).toBe(shown[0]!.id);
    // The small one's turns are the newest ones, contiguous.
    expect(small!.body.messages.slice(1)).toEqual(large!.body.messages.slice(large!.body.messages.length - (small!.body.messages.length - 1)));
  });

  it("a message too long for every model is stored, and the stream says why, naming the limit", async () => {
    await stack.db.sql`update api_models set context_length = 700 where model_key = ${SONNET}`;
    await stack.db.sql`update system_config set value = to_jsonb((value)::text::int + 1) where key = 'registry_version'`;
    await registryReloaded(stack.parley, stack.db.sql);
    const c = stack.parley.client();
    const session = await createSession(c);
    const before = stack.upstream.requests.length;
    const text = "word ".repeat(1200);
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: text }) }));
    expect(events[0]!.data.userMessage.content).toBe(text.trim());
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "prompt_too_long", message: expect.stringMatching(/at most \d+ fit/) } });
    expect(stack.upstream.requests.length).toBe(before);
  });
});
