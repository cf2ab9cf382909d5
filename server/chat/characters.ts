import { createHash, randomUUID } from "node:crypto";
import type { CharacterDefinitionView, CharacterView } from "../../contracts/api-views.js";
import { CARD_AVATAR_STYLE, MAX_SEED_LENGTH } from "../../contracts/avatar-styles.js";
import type { CardData, CardLorebook, CardV3, CharacterEdit } from "../../contracts/character-card.js";
import { readCardFile, type CardImage } from "../cards/card-file.js";
import { writeCharx } from "../cards/charx.js";
import { writePngCard } from "../cards/png-card.js";
import type { Database } from "../db/client.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { insertScenario } from "../db/queries/admin.js";
import { attachLorebook, insertLorebook, listLorebooks, lorebooksOf, type Owner } from "../db/queries/lorebooks.js";
import {
  findGalleryByCardHash,
  findOwnedByCardHash,
  getCharacterImage,
  getCharacterRow,
  insertOwnedCharacter,
  listOwnedCharacters,
  setOwnedCharacterListed,
  characterAssetsOf,
  saveCharacterAssets,
  saveCharacterImage,
  saveCharacterThumb,
  updateCharacter,
} from "../db/queries/scenarios.js";
import type { ScenarioRow } from "../db/schema.js";
import { AppError, notFound } from "../errors.js";
import { pickFields, PUBLIC_SCENARIO_FIELDS, type PublicScenario } from "../views.js";
import { characterNameOf, DEFAULT_CHARACTER_PROMPT } from "./character-prompt.js";
import { bookName } from "./lorebooks.js";
import { thumbnail } from "../cards/thumbnail.js";
import { errorFields } from "../error-report.js";
import type { Logger } from "../logger.js";

/** How much of a card's notes the gallery tile shows as its description. */
const SUMMARY_CHARS = 300;

const hashOf = (card: CardV3) => createHash("sha256").update(JSON.stringify(card)).digest("hex");

/**
 * The scenario columns a card's fields make (wherever it goes: a person's own, or the gallery),
 * within what the admin's scenario form accepts, so it can be edited as it is.
 */
function columnsOf(d: CardData) {
  const name = characterNameOf(d);
  return {
    title: d.name.slice(0, 120),
    characterName: name.slice(0, 80),
    description: (d.creator_notes.trim() || d.description.trim()).replace(/\s+/g, " ").slice(0, SUMMARY_CHARS) || d.name.slice(0, SUMMARY_CHARS),
    tags: d.tags.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 30).slice(0, 12),
    openingMessage: d.first_mes.trim() ? d.first_mes : `*${name} is here.*`,
  };
}

/** A new scenario from a card: its columns, its picture (the Avatar's "card" style) or DiceBear, the card itself riding along whole. */
function scenarioOf(card: CardV3, slug: string, image: CardImage | undefined) {
  return {
    slug,
    ...columnsOf(card.data),
    category: "story" as const,
    contentRating: "general" as const,
    ...(image ? { avatarStyle: CARD_AVATAR_STYLE, avatarSeed: slug } : { avatarStyle: "adventurer", avatarSeed: card.data.name.slice(0, MAX_SEED_LENGTH) }),
  };
}

/** A card's lorebook lives apart from it (editable, attachable to others); the card keeps the rest. */
function splitBook(card: CardV3): { card: CardV3; book: CardLorebook | undefined } {
  const { character_book: book, ...data } = card.data;
  return { card: { ...card, data: data as CardData }, book };
}

/**
 * A scenario made in the admin (or shipped with Parley), as a card: its character and private
 * system prompt, for an admin's export. `{{original}}` is not used: the prompt is the scenario's own.
 */
function cardOfScenario(s: ScenarioRow): CardV3 {
  return {
    spec: "chara_card_v3",
    spec_version: "3.0",
    data: {
      name: s.characterName,
      description: "",
      personality: "",
      scenario: "",
      first_mes: s.openingMessage,
      mes_example: "",
      creator_notes: s.description,
      system_prompt: s.systemPrompt,
      post_history_instructions: "",
      alternate_greetings: [],
      tags: s.tags,
      creator: "Parley",
      character_version: "",
      extensions: { parley: { slug: s.slug, title: s.title, category: s.category, contentRating: s.contentRating } },
      group_only_greetings: [],
      creation_date: Math.floor(s.createdAt.getTime() / 1000),
      modification_date: Math.floor(s.updatedAt.getTime() / 1000),
    },
  };
}

/**
 * Characters from cards: a person's own ("My characters": theirs alone like their conversations),
 * or the gallery's (`owner` null), imported and edited by an admin. Each is a scenario keeping its
 * card whole; the card's lorebook is a lorebook of the owner's, attached to it.
 */
export function createCharacterService(deps: { database: DatabaseLifecycle; log: Logger }) {
  const view = (s: PublicScenario, card: CardV3 | null, lorebookEntries: number): CharacterView => ({
    ...s,
    creator: card?.data.creator ?? "",
    creatorNotes: card?.data.creator_notes ?? "",
    characterVersion: card?.data.character_version ?? "",
    alternateGreetings: card?.data.alternate_greetings.length ?? 0,
    lorebookEntries,
  });

  /** The card's book into a lorebook of the owner's, attached as the card's own. */
  async function keepBook(db: Database, owner: Owner, scenarioId: string, card: CardV3, book: CardLorebook | undefined) {
    if (!book) return;
    const row = await insertLorebook(db, { ownerClientId: owner, name: bookName(book, card.data.name), book });
    await attachLorebook(db, scenarioId, row.id, true);
  }

  /** One card file into a character of the person's own; the same card again is recognised, not doubled. */
  async function importCard(clientId: string, bytes: Uint8Array) {
    const { card: whole, image, assets, warnings, from } = readCardFile(bytes);
    const cardHash = hashOf(whole);
    const { card, book } = splitBook(whole);
    const db = deps.database.require();
    const existing = await findOwnedByCardHash(db, clientId, cardHash);
    if (existing) {
      // A card the person removed comes back as it was, lorebooks and edits included.
      if (!existing.isActive) await setOwnedCharacterListed(db, clientId, existing.slug, true);
      return { character: (await list(clientId, existing.slug))[0]!, alreadyImported: true, warnings, from };
    }
    const thumb = image ? await thumbOf(image.bytes) : null;
    const created = await db.transaction(async (tx) => {
      const row = await insertOwnedCharacter(tx, {
        ...scenarioOf(card, `my-${randomUUID().slice(0, 12)}`, image),
        card,
        cardHash,
        ownerClientId: clientId,
        // The card's own prompt is used (server/chat/character-prompt.ts); empty, {{original}} is Parley's default.
        systemPrompt: "",
        isActive: true,
      });
      await keepBook(tx, clientId, row.id, card, book);
      if (image) await saveCharacterImage(tx, row.id, image.contentType, image.bytes, thumb);
      if (assets) await saveCharacterAssets(tx, row.id, assets);
      return row;
    });
    return { character: view(created, card, book?.entries.length ?? 0), alreadyImported: false, warnings, from };
  }

  /**
   * A card into the gallery, for an admin: hidden until published (the admin's Scenarios tab), its
   * definition as private as any scenario's system prompt. The same card again is recognised.
   */
  async function importToGallery(bytes: Uint8Array) {
    const { card: whole, image, assets, warnings } = readCardFile(bytes);
    const cardHash = hashOf(whole);
    const { card, book } = splitBook(whole);
    const db = deps.database.require();
    const existing = await findGalleryByCardHash(db, cardHash);
    if (existing) return { scenario: existing, alreadyImported: true, warnings };
    const thumb = image ? await thumbOf(image.bytes) : null;
    const slugBase = card.data.name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || "character";
    const scenario = await db.transaction(async (tx) => {
      const row = await insertScenario(tx, {
        ...scenarioOf(card, `${slugBase}-${randomUUID().slice(0, 6)}`, image),
        card,
        cardHash,
        // What {{original}} in the card's own system prompt stands for; the admin may change it.
        systemPrompt: DEFAULT_CHARACTER_PROMPT,
        isActive: false,
      });
      await keepBook(tx, null, row.id, card, book);
      if (image) await saveCharacterImage(tx, row.id, image.contentType, image.bytes, thumb);
      if (assets) await saveCharacterAssets(tx, row.id, assets);
      return row;
    });
    return { scenario, alreadyImported: false, warnings };
  }

  async function list(clientId: string, slug?: string): Promise<CharacterView[]> {
    const rows = await listOwnedCharacters(deps.database.require(), clientId, slug);
    return rows.map(({ card, lorebookEntries, ...s }) => view(s, card, lorebookEntries));
  }

  async function load(owner: Owner, slug: string) {
    const found = await getCharacterRow(deps.database.require(), slug, owner);
    if (!found) throw notFound("Character");
    return found;
  }

  /** A character whole, for its editor: its card's fields (its lorebooks apart) and the books it draws on. */
  async function definition(owner: Owner, slug: string): Promise<CharacterDefinitionView> {
    const row = await load(owner, slug);
    if (!row.card) throw new AppError(409, "invalid_card", "This scenario was not made from a character card: edit it in the Scenarios tab");
    const books = (await listLorebooks(deps.database.require(), owner)).filter((b) => b.characters.some((c) => c.slug === slug));
    return { ...view(pickFields(row, PUBLIC_SCENARIO_FIELDS), row.card, row.lorebookEntries), card: row.card.data, lorebooks: books };
  }

  /** The owner changes the card's fields: what is not given stays, the scenario's columns follow. */
  async function edit(owner: Owner, slug: string, changes: CharacterEdit): Promise<CharacterDefinitionView> {
    const row = await load(owner, slug);
    if (!row.card) throw new AppError(409, "invalid_card", "This scenario was not made from a character card: edit it in the Scenarios tab");
    const data: CardData = { ...row.card.data, ...changes, modification_date: Math.floor(Date.now() / 1000) };
    await updateCharacter(deps.database.require(), row.id, { card: { ...row.card, data }, ...columnsOf(data) });
    return definition(owner, slug);
  }

  /**
   * The card back out: V3 JSON, a PNG carrying it (ccv3 and a V2 chara) in the character's
   * picture, or CHARX; its own lorebook back inside it. A scenario that came from no card (the
   * admin's, or Parley's own) is exported as one, for an admin.
   */
  async function exportCard(owner: Owner, slug: string, format: "json" | "png" | "charx") {
    const row = await load(owner, slug);
    const image = row.image;
    const embedded = (await lorebooksOf(deps.database.require(), row.id)).find((b) => b.embedded);
    const base = row.card ?? cardOfScenario(row);
    const card: CardV3 = embedded ? { ...base, data: { ...base.data, character_book: embedded.book } } : base;
    const name = card.data.name.replace(/[^\p{L}\p{N} _-]+/gu, "").trim() || "character";
    if (format === "json") return { filename: `${name}.json`, contentType: "application/json", bytes: Buffer.from(JSON.stringify(card, null, 2)) };
    if (format === "png") {
      if (image?.contentType !== "image/png") throw new AppError(409, "no_image", "This character has no PNG picture to carry its card: export it as JSON or CHARX");
      return { filename: `${name}.png`, contentType: "image/png", bytes: Buffer.from(writePngCard(image.bytes, card)) };
    }
    // Every file the card came with, and its picture where the card says its icon lives (a card from a PNG says none).
    const assets = await characterAssetsOf(deps.database.require(), row.id);
    const icon = card.data.assets?.find((a) => a.type === "icon" && a.uri.startsWith("embeded://"));
    if (icon && image && !assets.has(icon.uri.slice("embeded://".length))) assets.set(icon.uri.slice("embeded://".length), image.bytes);
    return { filename: `${name}.charx`, contentType: "application/zip", bytes: Buffer.from(writeCharx(card, assets)) };
  }

  /** A picture sharp cannot read is kept as it is, and served as it is. */
  const thumbOf = (bytes: Uint8Array) =>
    thumbnail(bytes).catch((err: unknown) => {
      deps.log.warn({ ...errorFields(err) }, "a card's picture could not be resized; it is served as it is");
      return null;
    });

  /** The character's avatar: its picture made small (made now, and kept, for one stored before Parley resized them). */
  async function image(clientId: string | undefined, slug: string): Promise<{ contentType: string; bytes: Uint8Array } | undefined> {
    const db = deps.database.require();
    const row = await getCharacterImage(db, slug, clientId);
    if (!row) return undefined;
    if (row.thumb) return { contentType: "image/webp", bytes: row.thumb };
    if (!row.bytes) return undefined;
    const thumb = await thumbOf(row.bytes);
    if (!thumb) return { contentType: row.contentType, bytes: row.bytes };
    await saveCharacterThumb(db, row.scenarioId, thumb);
    return { contentType: "image/webp", bytes: thumb };
  }

  /**
   * The person takes a character of theirs out of their list (`listed: false`), or puts it back.
   * Nothing is deleted: its conversations stay open to them (marked no longer offered), and the
   * same card imported again brings it back.
   */
  async function setListed(clientId: string, slug: string, listed: boolean): Promise<CharacterView | null> {
    const db = deps.database.require();
    if (!(await setOwnedCharacterListed(db, clientId, slug, listed))) throw notFound("Character");
    return listed ? (await list(clientId, slug))[0]! : null;
  }

  return { importCard, importToGallery, list, definition, edit, exportCard, image, setListed };
}

export type CharacterService = ReturnType<typeof createCharacterService>;
