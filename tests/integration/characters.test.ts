import { describe, expect, it } from "vitest";
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

    // The picture is the character's avatar, for its owner.
    const picture = await c.fetch(`/api/characters/${slug}/image`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get("content-type")).toBe("image/png");
    // The picture alone: the card's definition does not travel inside it.
    const pictureText = Buffer.from(await picture.arrayBuffer()).toString("latin1");
    expect(pictureText).toContain("IHDR");
    expect(pictureText).not.toMatch(/chara|ccv3/);
    const other = stack.parley.client();
    expect((await exported("json", other)).status).toBe(404);
    expect((await other.fetch(`/api/characters/${slug}/image`)).status).toBe(404);

    // A card that came as JSON has no picture to carry it.
    const plain = await upload(c, Buffer.from(JSON.stringify({ ...card, data: { ...card.data, name: "No Picture" } })));
    const noPng = await c.json<ErrorBody>(`/api/characters/${plain.body.character.slug}/export?format=png`);
    expect(noPng).toMatchObject({ status: 409, body: { error: { code: "no_image" } } });
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
  });
});
