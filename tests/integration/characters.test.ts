import { sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import sharp from "sharp";
import { strToU8, unzipSync, zipSync } from "fflate";
import { openDatabase } from "../../server/db/client.js";
import { THUMB_SIZE } from "../../server/cards/thumbnail.js";
import { olderDatabase, rowsOf } from "../support/older-schema.js";
import { useChatStack } from "../support/chat-stack.js";
import { cardPng, png } from "../support/cards.js";
import { createSession, readSse, type Client } from "../support/parley.js";

/** A person's own characters, from their cards: imported, recognised again, theirs alone, and in effect in the chat. */

const card = {
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name: "Captain Mira Holt",
    description: "{{char}} commands the airship Kestrel.",
    personality: "blunt, loyal",
    scenario: "{{user}} has just boarded.",
    first_mes: "Welcome aboard, {{user}}.",
    alternate_greetings: ["You again? Get on, then."],
    mes_example: "<START>\n{{user}}: Where to?\n{{char}}: North.",
    creator_notes: "Notes for people, never for the model.",
    system_prompt: "{{original}} Keep replies short.",
    post_history_instructions: "Stay in the year 1890.",
    tags: ["steampunk"],
    creator: "Ada",
    character_version: "2",
    extensions: { talkativeness: "0.4" },
    character_book: {
      entries: [
        { keys: ["harbour"], content: "The harbour of Vell burned last spring.", extensions: {}, enabled: true, insertion_order: 10 },
        { keys: ["dragon"], content: "Dragons are a myth.", extensions: {}, enabled: true, insertion_order: 10 },
      ],
    },
  },
};

type Character = { slug: string; title: string; characterName: string; alternateGreetings: number; lorebookEntries: number; creatorNotes: string };
type ErrorBody = { error: { code: string; message: string } };

const upload = (c: Client, bytes: Buffer) =>
  c.json<{ character: Character; alreadyImported: boolean; warnings: string[] } & ErrorBody>("/api/characters", {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new Uint8Array(bytes),
  });

describe.each(["pglite", "postgres"] as const)("character cards on %s", (kind) => {
  const stack = useChatStack(kind, "sk-or-cards");

  it("imports a PNG card as the person's own character, recognises it the second time, and refuses a broken file", async () => {
    const c = stack.parley.client();
    const first = await upload(c, cardPng(card));
    expect(first.status).toBe(201);
    expect(first.body.character).toMatchObject({ title: "Captain Mira Holt", characterName: "Captain Mira Holt", alternateGreetings: 1, lorebookEntries: 2, creatorNotes: card.data.creator_notes });
    const again = await upload(c, cardPng(card));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ alreadyImported: true, character: { slug: first.body.character.slug } });

    const broken = await upload(c, png([], { badCrcOn: "IDAT" }));
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_card");
    const notACard = await upload(c, Buffer.from("hello, I am a text file"));
    expect(notACard.body.error).toMatchObject({ code: "invalid_card", message: expect.stringContaining("not a character card") });

    const mine = await c.json<{ characters: Character[] }>("/api/characters");
    expect(mine.body.characters.map((x) => x.slug)).toEqual([first.body.character.slug]);
  });

  it("keeps a person's character theirs: not in the gallery, not listed or startable by anyone else", async () => {
    const c = stack.parley.client();
    const { body } = await upload(c, cardPng({ ...card, data: { ...card.data, name: "Private Pete" } }));
    const other = stack.parley.client();
    expect((await other.json<{ characters: Character[] }>("/api/characters")).body.characters).toEqual([]);
    const started = await other.json<ErrorBody>("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: body.character.slug }) });
    expect(started.status).toBe(404);
    const gallery = await other.json<{ scenarios: { slug: string }[] }>("/api/scenarios");
    expect(gallery.body.scenarios.map((s) => s.slug)).not.toContain(body.character.slug);
    expect((await other.json<ErrorBody>(`/api/scenarios/${body.character.slug}`)).status).toBe(404);
  });

  it("chats with the card in effect: greetings as swipes, its prompt, example dialogue, lore that the message touches, post-history instructions", async () => {
    const c = stack.parley.client();
    const { body } = await upload(c, cardPng({ ...card, data: { ...card.data, name: "Mira Chat" } }));
    const sessionId = await createSession(c, body.character.slug);
    const opened = await c.json<{ session: { messages: { content: string; siblings?: string[] }[] } }>(`/api/sessions/${sessionId}`);
    const opening = opened.body.session.messages[0]!;
    expect(opening.content).toBe("Welcome aboard, {{user}}.");
    expect(opening.siblings).toHaveLength(2);

    stack.upstream.enqueue({ kind: "stream", chunks: ["Aye."] });
    const events = await readSse(await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: "What happened at the harbour?" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const sent = stack.upstream.requests.at(-1)!.body.messages as { role: string; content: string }[];
    const system = sent[0]!;
    expect(system.role).toBe("system");
    expect(system.content).toContain("You are Mira Chat.");
    expect(system.content).toContain("Keep replies short.");
    expect(system.content).toContain("Mira Chat commands the airship Kestrel.");
    expect(system.content).toContain("The harbour of Vell burned last spring.");
    expect(system.content).not.toContain("Dragons are a myth.");
    expect(JSON.stringify(sent)).not.toContain("Notes for people");
    expect(sent[1]).toMatchObject({ role: "system", content: expect.stringContaining("Where to?") });
    expect(sent.at(-2)).toMatchObject({ role: "user", content: "What happened at the harbour?" });
    expect(sent.at(-1)).toMatchObject({ role: "system", content: "Stay in the year 1890." });
  });

  it("takes a character out of its owner's list and back, its conversations theirs throughout; the same card again brings it back", async () => {
    const c = stack.parley.client();
    const named = { ...card, data: { ...card.data, name: "Passing Pip" } };
    const { body } = await upload(c, cardPng(named));
    const slug = body.character.slug;
    const session = await createSession(c, slug);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Aye."] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Ready?" }) }));
    const listed = async () => (await c.json<{ characters: Character[] }>("/api/characters")).body.characters.map((x) => x.slug);

    // Only its owner, and only once.
    expect((await stack.parley.client().json<ErrorBody>(`/api/characters/${slug}`, { method: "DELETE" })).status).toBe(404);
    expect((await c.json(`/api/characters/${slug}`, { method: "DELETE" })).status).toBe(200);
    expect((await c.json<ErrorBody>(`/api/characters/${slug}`, { method: "DELETE" })).status).toBe(404);
    expect(await listed()).not.toContain(slug);

    // The conversation stays: the chat opens (marked), its picture shows, it goes on; no new one starts.
    expect((await c.json<{ scenario: { withdrawn: boolean } }>(`/api/scenarios/${slug}`)).body.scenario.withdrawn).toBe(true);
    expect((await c.fetch(`/api/characters/${slug}/image`)).status).toBe(200);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Always."] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Still?" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const thread = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(thread.body.session.messages.map((m) => m.content).slice(1)).toEqual(["Ready?", "Aye.", "Still?", "Always."]);
    expect((await c.json<ErrorBody>("/api/sessions", { method: "POST", body: JSON.stringify({ scenario: slug }) })).status).toBe(404);

    // Undone: back in the list, offered again.
    expect((await stack.parley.client().json<ErrorBody>(`/api/characters/${slug}/restore`, { method: "POST", body: "{}" })).status).toBe(404);
    const restored = await c.json<{ character: Character }>(`/api/characters/${slug}/restore`, { method: "POST", body: "{}" });
    expect(restored).toMatchObject({ status: 200, body: { character: { slug, lorebookEntries: 2 } } });
    expect(await listed()).toContain(slug);
    expect((await c.json<{ scenario: { withdrawn: boolean } }>(`/api/scenarios/${slug}`)).body.scenario.withdrawn).toBe(false);

    // Removed again, the same card imported brings the same character back, not a second one.
    await c.json(`/api/characters/${slug}`, { method: "DELETE" });
    const again = await upload(c, cardPng(named));
    expect(again).toMatchObject({ status: 200, body: { alreadyImported: true, character: { slug } } });
    expect((await listed()).filter((x) => x === slug)).toEqual([slug]);
  });

  it("exports a card as PNG, JSON and CHARX that import back as the same card, to its owner alone", async () => {
    const c = stack.parley.client();
    const { body } = await upload(c, cardPng({ ...card, data: { ...card.data, name: "Round Trip" } }));
    const slug = body.character.slug;
    const exported = async (format: string, who = c) => who.fetch(`/api/characters/${slug}/export?format=${format}`);

    const asPng = await exported("png");
    expect(asPng.status).toBe(200);
    expect(asPng.headers.get("content-type")).toBe("image/png");
    expect(asPng.headers.get("content-disposition")).toContain('filename="Round Trip.png"');
    const again = await upload(c, Buffer.from(await asPng.arrayBuffer()));
    expect(again.body).toMatchObject({ alreadyImported: true, character: { slug } });

    const asJson = (await (await exported("json")).json()) as { spec: string; data: { name: string; extensions: unknown; character_book: { entries: unknown[] } } };
    expect(asJson.spec).toBe("chara_card_v3");
    expect(asJson.data).toMatchObject({ name: "Round Trip", extensions: card.data.extensions });
    expect(asJson.data.character_book.entries).toHaveLength(2);
    expect((await upload(c, Buffer.from(JSON.stringify(asJson)))).body.alreadyImported).toBe(true);
    const asCharx = await exported("charx");
    expect(asCharx.headers.get("content-type")).toBe("application/zip");
    expect((await upload(c, Buffer.from(await asCharx.arrayBuffer()))).body.alreadyImported).toBe(true);

    // The picture is the character's avatar, for its owner: made small (a square WebP).
    const picture = await c.fetch(`/api/characters/${slug}/image`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get("content-type")).toBe("image/webp");
    const pictureBytes = Buffer.from(await picture.arrayBuffer());
    expect(await sharp(pictureBytes).metadata()).toMatchObject({ format: "webp", width: THUMB_SIZE, height: THUMB_SIZE });
    // The picture alone: the card's definition does not travel inside it.
    expect(pictureBytes.toString("latin1")).not.toMatch(/chara|ccv3/);
    // The PNG export carries the original picture, not the small copy.
    const fromExport = Buffer.from(await (await exported("png")).arrayBuffer());
    expect(await sharp(fromExport).metadata()).toMatchObject({ format: "png", width: 1, height: 1 });
    const other = stack.parley.client();
    expect((await exported("json", other)).status).toBe(404);
    expect((await other.fetch(`/api/characters/${slug}/image`)).status).toBe(404);

    // A card that came as JSON has no picture to carry it.
    const plain = await upload(c, Buffer.from(JSON.stringify({ ...card, data: { ...card.data, name: "No Picture" } })));
    const noPng = await c.json<ErrorBody>(`/api/characters/${plain.body.character.slug}/export?format=png`);
    expect(noPng).toMatchObject({ status: 409, body: { error: { code: "no_image" } } });
  });

  it("keeps every file a CHARX card came with, and gives them all back in its CHARX export", async () => {
    const c = stack.parley.client();
    const icon = png();
    const expression = Buffer.from("pretend-expression-bytes");
    const module = Buffer.from("risu-module-bytes");
    const v3 = {
      spec: "chara_card_v3",
      spec_version: "3.0",
      data: {
        ...card.data,
        name: "Charx Keeper",
        group_only_greetings: [],
        assets: [
          { type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" },
          { type: "emotion", uri: "embeded://assets/emotion/images/happy.webp", name: "happy", ext: "webp" },
        ],
      },
    };
    const archive = zipSync({
      "card.json": strToU8(JSON.stringify(v3)),
      "assets/icon/images/main.png": new Uint8Array(icon),
      "assets/emotion/images/happy.webp": new Uint8Array(expression),
      "module.risum": new Uint8Array(module),
    });
    const imported = await upload(c, Buffer.from(archive));
    expect(imported.status).toBe(201);
    const res = await c.fetch(`/api/characters/${imported.body.character.slug}/export?format=charx`);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(["assets/emotion/images/happy.webp", "assets/icon/images/main.png", "card.json", "module.risum"]);
    expect(Buffer.from(files["assets/emotion/images/happy.webp"]!)).toEqual(expression);
    expect(Buffer.from(files["module.risum"]!)).toEqual(module);
    expect(Buffer.from(files["assets/icon/images/main.png"]!)).toEqual(icon);
    // And it is the same card.
    expect((await upload(c, Buffer.from(zipSync(files)))).body.alreadyImported).toBe(true);
  });

  it("keeps a card's lorebook as the character's own book, takes a World Info file, attaches it to two characters, edits it, and shows what the model saw", async () => {
    const c = stack.parley.client();
    const mira = (await upload(c, cardPng({ ...card, data: { ...card.data, name: "Lore Mira" } }))).body.character;
    const bo = (await upload(c, Buffer.from(JSON.stringify({ ...card, data: { ...card.data, name: "Lore Bo", character_book: null } })))).body.character;
    expect(bo.lorebookEntries).toBe(0);
    type Book = { id: string; name: string; entries: number; characters: { slug: string; embedded: boolean }[]; book: { name?: string; entries: { keys: string[]; content: string; extensions: Record<string, unknown> }[] } };
    const own = (await c.json<{ lorebooks: Book[] }>("/api/lorebooks")).body.lorebooks;
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ name: "Lore Mira", entries: 2, characters: [{ slug: mira.slug, embedded: true }] });

    // SillyTavern's World Info file, as its editor saves one.
    const worldInfo = {
      entries: {
        "0": { uid: 0, key: ["lighthouse"], keysecondary: [], comment: "The lighthouse", content: "The lighthouse keeper is blind.", constant: false, selective: false, order: 50, position: 4, depth: 1, role: 0, disable: false, selectiveLogic: 0, probability: 100 },
        "1": { uid: 1, key: ["/ghost(s)?/i"], keysecondary: ["night"], comment: "Ghosts", content: "Ghosts walk at night.", constant: false, selective: true, order: 60, position: 0, disable: false, selectiveLogic: 0 },
      },
    };
    const imported = await c.json<{ lorebook: Book } & ErrorBody>("/api/lorebooks?name=Vell.json", { method: "POST", body: JSON.stringify(worldInfo) });
    expect(imported.status).toBe(201);
    const vell = imported.body.lorebook;
    expect(vell).toMatchObject({ name: "Vell", entries: 2, characters: [] });
    expect(vell.book.entries[0]!.extensions).toMatchObject({ position: 4, depth: 1, probability: 100 });
    const bad = await c.json<ErrorBody>("/api/lorebooks", { method: "POST", body: JSON.stringify({ hello: "world" }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_lorebook" } } });

    for (const slug of [mira.slug, bo.slug]) expect((await c.json(`/api/lorebooks/${vell.id}/characters/${slug}`, { method: "PUT" })).status).toBe(200);
    const attached = (await c.json<{ lorebook: Book }>(`/api/lorebooks/${vell.id}`)).body.lorebook;
    expect(attached.characters.map((x) => x.slug).sort()).toEqual([mira.slug, bo.slug].sort());

    // Another person sees none of it, and cannot attach it to their own character.
    const other = stack.parley.client();
    expect((await other.json<{ lorebooks: Book[] }>("/api/lorebooks")).body.lorebooks).toEqual([]);
    expect((await other.json<ErrorBody>(`/api/lorebooks/${vell.id}`)).status).toBe(404);
    expect((await other.json<ErrorBody>(`/api/lorebooks/${vell.id}`, { method: "PUT", body: JSON.stringify({ name: "x", book: vell.book }) })).status).toBe(404);

    // Edited: the lighthouse entry also answers to "beacon"; unknown fields ride along.
    const book = structuredClone(attached.book);
    book.entries[0]!.keys.push("beacon");
    const saved = await c.json<{ lorebook: Book } & ErrorBody>(`/api/lorebooks/${vell.id}`, { method: "PUT", body: JSON.stringify({ name: "Vell, the port", book }) });
    expect(saved.status).toBe(200);
    expect(saved.body.lorebook).toMatchObject({ name: "Vell, the port" });
    expect(saved.body.lorebook.book.entries[0]!.keys).toEqual(["lighthouse", "beacon"]);
    expect(saved.body.lorebook.book.entries[0]!.extensions).toMatchObject({ probability: 100 });
    const tooBig = await c.json<ErrorBody>(`/api/lorebooks/${vell.id}`, { method: "PUT", body: JSON.stringify({ name: "", book }) });
    expect(tooBig).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });

    // Bo's reply: the edited key fires the entry at its depth, as a system line above the newest message.
    const sessionId = await createSession(c, bo.slug);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Aye."] });
    const events = await readSse(await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: "Is the beacon lit?" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const sent = stack.upstream.requests.at(-1)!.body.messages as { role: string; content: string }[];
    expect(sent.at(-3)).toMatchObject({ role: "system", content: "The lighthouse keeper is blind." });
    expect(JSON.stringify(sent)).not.toContain("Ghosts walk");

    type Report = { model: string; parts: { kind: string; role: string; content: string }[]; lore: { book: string; entry: string; key?: string; why: string; position: string }[]; trimmed: { historyLeftOut: number; examplesDropped: number } };
    const reply = (events.at(-1)!.data as { message: { id: string } }).message;
    const report = await c.json<Report>(`/api/sessions/${sessionId}/messages/${reply.id}/prompt`);
    expect(report.status).toBe(200);
    expect(report.body.lore).toEqual([expect.objectContaining({ book: "Vell, the port", entry: "The lighthouse", key: "beacon", why: "key", position: "depth 1 as system" })]);
    // The parts are the prompt as sent, in order, the history with its text.
    expect(report.body.parts.map((p) => [p.role, p.content])).toEqual(sent.map((m) => [m.role, m.content]));
    expect(report.body.parts.map((p) => p.kind)).toContain("lore");
    expect(report.body.trimmed).toEqual({ historyLeftOut: 0, examplesDropped: 0, lore: [] });
    // Not for someone else; and the person's own message has none.
    expect((await other.json<ErrorBody>(`/api/sessions/${sessionId}/messages/${reply.id}/prompt`)).status).toBe(404);
    const mine = (events[0]!.data as { userMessage: { id: string } }).userMessage;
    expect((await c.json<ErrorBody>(`/api/sessions/${sessionId}/messages/${mine.id}/prompt`)).body.error.code).toBe("no_prompt_report");
    // A longer thread: its history is kept as runs of messages, and shown message by message as it was sent.
    let last = reply;
    for (const words of ["Who keeps it?", "Since when?", "And before that?"]) {
      stack.upstream.enqueue({ kind: "stream", chunks: [`Answer to ${words}`] });
      const more = await readSse(await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: words }) }));
      last = (more.at(-1)!.data as { message: { id: string } }).message;
    }
    const longer = stack.upstream.requests.at(-1)!.body.messages as { role: string; content: string }[];
    const shown = await c.json<Report>(`/api/sessions/${sessionId}/messages/${last.id}/prompt`);
    expect(shown.body.parts.map((p) => [p.role, p.content])).toEqual(longer.map((m) => [m.role, m.content]));
    expect(shown.body.parts.filter((p) => p.kind === "history").length).toBeGreaterThan(5);

    // Detached, deleted: gone from the list; the card's own book goes back into Mira's export.
    expect((await c.json(`/api/lorebooks/${vell.id}/characters/${bo.slug}`, { method: "DELETE" })).status).toBe(200);
    expect((await c.fetch(`/api/lorebooks/${vell.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await c.json<{ lorebooks: Book[] }>("/api/lorebooks")).body.lorebooks.map((b) => b.name)).toEqual(["Lore Mira"]);
    const exported = (await (await c.fetch(`/api/characters/${mira.slug}/export?format=json`)).json()) as { data: { character_book: { entries: unknown[] } } };
    expect(exported.data.character_book.entries).toHaveLength(2);
  });

  it("lets the owner edit a character's definition, and the prompt follows", async () => {
    const c = stack.parley.client();
    const { slug } = (await upload(c, cardPng({ ...card, data: { ...card.data, name: "Edit Me" } }))).body.character;
    type Definition = { title: string; characterName: string; card: { name: string; description: string; nickname?: string; extensions: unknown; character_book?: unknown }; lorebooks: { name: string }[] };
    const before = await c.json<{ character: Definition }>(`/api/characters/${slug}`);
    expect(before.body.character.card).toMatchObject({ name: "Edit Me", description: card.data.description, extensions: card.data.extensions });
    expect(before.body.character.card.character_book).toBeUndefined();
    expect(before.body.character.lorebooks.map((b) => b.name)).toEqual(["Edit Me"]);

    const edited = await c.json<{ character: Definition } & ErrorBody>(`/api/characters/${slug}`, {
      method: "PATCH",
      body: JSON.stringify({ nickname: "Eddie", description: "{{char}} flies a balloon now." }),
    });
    expect(edited.status).toBe(200);
    expect(edited.body.character).toMatchObject({ title: "Edit Me", characterName: "Eddie", card: { nickname: "Eddie", extensions: card.data.extensions } });
    const refused = await c.json<ErrorBody>(`/api/characters/${slug}`, { method: "PATCH", body: JSON.stringify({ name: " " }) });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect((await stack.parley.client().json<ErrorBody>(`/api/characters/${slug}`, { method: "PATCH", body: JSON.stringify({ nickname: "x" }) })).status).toBe(404);

    const sessionId = await createSession(c, slug);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Up we go."] });
    const events = await readSse(await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const system = (stack.upstream.requests.at(-1)!.body.messages as { content: string }[])[0]!.content;
    expect(system).toContain("You are Eddie.");
    expect(system).toContain("Eddie flies a balloon now.");
  });
});

describe.each(["pglite", "postgres"] as const)("a card's lorebook stored by an older Parley on %s", (kind) => {
  it("moves into a lorebook of its own, attached to its character, and comes back in the card's export", async () => {
    const older = await olderDatabase(kind, "0011", inject("postgresUrl"));
    try {
      const data = { ...card.data, character_book: { name: "Old book", entries: [{ keys: ["harbour"], content: "The harbour burned.", extensions: { keep: 1 }, enabled: true, insertion_order: 10 }] } };
      await older.exec(sql`insert into scenarios (slug, title, character_name, description, category, opening_message, avatar_style, avatar_seed, system_prompt, owner_client_id, card, card_hash)
        values ('my-old', 'Old', 'Old', 'd', 'story', 'Hi', 'adventurer', 'old', '', 'old-client', ${JSON.stringify({ spec: "chara_card_v3", spec_version: "3.0", data })}::jsonb, 'h')`);
      await older.close();
      const handle = await openDatabase({ databaseUrl: older.databaseUrl, dataDir: older.dataDir });
      try {
        const books = rowsOf<{ name: string; owner_client_id: string; book: { entries: { extensions: unknown }[] }; embedded: boolean; has_book: boolean }>(
          await handle.db.execute(sql`select l.name, l.owner_client_id, l.book, sl.embedded, (s.card->'data' ? 'character_book') as has_book
            from lorebooks l join scenario_lorebooks sl on sl.lorebook_id = l.id join scenarios s on s.id = sl.scenario_id`),
        );
        expect(books).toEqual([{ name: "Old book", owner_client_id: "old-client", book: data.character_book, embedded: true, has_book: false }]);
      } finally {
        await handle.close();
      }
    } finally {
      await older.dispose();
    }
  });
});

describe("an admin importing a card into the gallery", () => {
  const ADMIN_TOKEN = "characters-admin-token-0123456789";
  const stack = useChatStack("pglite", "sk-or-cards-admin", { ADMIN_TOKEN });
  const asAdmin = (bytes: Buffer) =>
    fetch(`${stack.parley.url}/api/admin/scenarios/import-card`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/octet-stream" },
      body: new Uint8Array(bytes),
    });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.parley.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...init.headers } });

  it("makes a hidden scenario of it, published by the admin, its definition never sent to browsers", async () => {
    const res = await asAdmin(cardPng({ ...card, data: { ...card.data, name: "Gallery Mira" } }));
    expect(res.status).toBe(201);
    const { scenario } = (await res.json()) as { scenario: { id: string; slug: string; isActive: boolean; card: unknown; systemPrompt: string } };
    expect(scenario).toMatchObject({ isActive: false, slug: expect.stringMatching(/^gallery-mira-[0-9a-f]{6}$/) });
    expect(scenario.card).toBeTruthy();
    expect((await asAdmin(cardPng({ ...card, data: { ...card.data, name: "Gallery Mira" } }))).status).toBe(200);
    // Not without the admin's token.
    const anonymous = await fetch(`${stack.parley.url}/api/admin/scenarios/import-card`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(cardPng(card)) });
    expect(anonymous.status).toBe(401);

    const c = stack.parley.client();
    const hidden = await c.json<{ scenarios: { slug: string }[] }>("/api/scenarios");
    expect(hidden.body.scenarios.map((s) => s.slug)).not.toContain(scenario.slug);
    expect((await c.fetch(`/api/characters/${scenario.slug}/image`)).status).toBe(404);
    const published = await fetch(`${stack.parley.url}/api/admin/scenarios/${scenario.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ isActive: true }),
    });
    expect(published.status).toBe(200);
    const gallery = await c.fetch("/api/scenarios");
    const text = await gallery.text();
    expect(text).toContain(scenario.slug);
    expect(text).not.toContain("commands the airship");
    expect(text).not.toContain("Stay in the year 1890");
    // Published, its picture is anyone's to see, and holds none of the card.
    const picture = await c.fetch(`/api/characters/${scenario.slug}/image`);
    expect(picture.status).toBe(200);
    expect(Buffer.from(await picture.arrayBuffer()).toString("latin1")).not.toMatch(/chara|ccv3|commands the airship/);

    const sessionId = await createSession(c, scenario.slug);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Aye."] });
    const events = await readSse(await c.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello" }) }));
    expect(events.at(-1)!.event).toBe("done");
    const sent = stack.upstream.requests.at(-1)!.body.messages as { role: string; content: string }[];
    expect(sent[0]!.content).toContain("Gallery Mira commands the airship Kestrel.");

    // What the model saw: the gallery character's prompt is private to the person, open to the admin.
    const reply = (events.at(-1)!.data as { message: { id: string } }).message;
    const refused = await c.json<{ error: { code: string } }>(`/api/sessions/${sessionId}/messages/${reply.id}/prompt`);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "prompt_private" } } });
    const seen = await admin(`/api/admin/sessions/${sessionId}/messages/${reply.id}/prompt`);
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { parts: { content: string }[] }).parts[0]!.content).toContain("Gallery Mira commands the airship Kestrel.");

    // The admin edits the gallery character's card; the gallery's lorebook is the admin's to edit.
    const edited = await admin(`/api/admin/characters/${scenario.slug}`, { method: "PATCH", body: JSON.stringify({ personality: "stern" }) });
    expect(edited.status).toBe(200);
    const books = (await (await admin("/api/admin/lorebooks")).json()) as { lorebooks: { name: string; characters: { slug: string }[] }[] };
    expect(books.lorebooks.find((b) => b.characters.some((x) => x.slug === scenario.slug))).toBeTruthy();
    expect((await c.json<{ lorebooks: unknown[] }>("/api/lorebooks")).body.lorebooks).toEqual([]);
  });

  it("exports any scenario, Parley's own included, as a card for an admin only, its system prompt in it", async () => {
    const res = await admin("/api/admin/characters/refund-request/export?format=json");
    expect(res.status).toBe(200);
    const exported = (await res.json()) as { spec: string; data: { name: string; system_prompt: string; first_mes: string } };
    expect(exported.spec).toBe("chara_card_v3");
    expect(exported.data.system_prompt.length).toBeGreaterThan(20);
    expect(exported.data.first_mes.length).toBeGreaterThan(5);
    // It imports back as a character of someone's own.
    const c = stack.parley.client();
    expect((await upload(c, Buffer.from(JSON.stringify(exported)))).status).toBe(201);
    expect((await c.fetch("/api/characters/refund-request/export?format=json")).status).toBe(404);
    expect((await fetch(`${stack.parley.url}/api/admin/characters/refund-request/export?format=json`)).status).toBe(401);
  });
});
