import { createHash, randomUUID } from "node:crypto";
import type { CharacterView } from "../../contracts/api-views.js";
import { MAX_SEED_LENGTH } from "../../contracts/avatar-styles.js";
import type { CardV3 } from "../../contracts/character-card.js";
import { readCardFile, type CardImage } from "../cards/card-file.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { findGalleryByCardHash, findOwnedByCardHash, getCharacterImage, getOwnedCharacter, insertOwnedCharacter, listOwnedCharacters, saveCharacterImage } from "../db/queries/scenarios.js";
import { writeCharx } from "../cards/charx.js";
import { writePngCard } from "../cards/png-card.js";
import { AppError, notFound } from "../errors.js";
import { CARD_AVATAR_STYLE } from "../../contracts/avatar-styles.js";
import type { PublicScenario } from "../views.js";
import { characterNameOf, DEFAULT_CHARACTER_PROMPT } from "./character-prompt.js";
import { insertScenario } from "../db/queries/admin.js";

/** How much of a card's notes the gallery tile shows as its description. */
const SUMMARY_CHARS = 300;

const hashOf = (card: CardV3) => createHash("sha256").update(JSON.stringify(card)).digest("hex");

/**
 * The scenario a card becomes, wherever it goes (a person's own, or the gallery): within what the
 * admin's scenario form accepts, so it can be edited as it is; the card itself rides along whole.
 */
function scenarioOf(card: CardV3, slug: string, image: CardImage | undefined) {
  const d = card.data;
  const name = characterNameOf(d);
  return {
    slug,
    title: d.name.slice(0, 120),
    characterName: name.slice(0, 80),
    description: (d.creator_notes.trim() || d.description.trim()).replace(/\s+/g, " ").slice(0, SUMMARY_CHARS) || d.name.slice(0, SUMMARY_CHARS),
    category: "story" as const,
    tags: d.tags.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 30).slice(0, 12),
    contentRating: "general" as const,
    openingMessage: d.first_mes.trim() ? d.first_mes : `*${name} is here.*`,
    // The card's own picture when it has one (the Avatar component's "card" style), else DiceBear.
    ...(image ? { avatarStyle: CARD_AVATAR_STYLE, avatarSeed: slug } : { avatarStyle: "adventurer", avatarSeed: d.name.slice(0, MAX_SEED_LENGTH) }),
    card,
    cardHash: hashOf(card),
  };
}

/**
 * Characters from cards: a person's own ("My characters": theirs alone like their conversations),
 * or the gallery's, imported by an admin. Each is a scenario keeping its card whole.
 */
export function createCharacterService(deps: { database: DatabaseLifecycle }) {
  const view = (s: PublicScenario, card: CardV3 | null): CharacterView => ({
    ...s,
    creator: card?.data.creator ?? "",
    creatorNotes: card?.data.creator_notes ?? "",
    characterVersion: card?.data.character_version ?? "",
    alternateGreetings: card?.data.alternate_greetings.length ?? 0,
    lorebookEntries: card?.data.character_book?.entries.length ?? 0,
  });

  /** One card file into a character of the person's own; the same card again is recognised, not doubled. */
  async function importCard(clientId: string, bytes: Uint8Array) {
    const { card, image, warnings, from } = readCardFile(bytes);
    const db = deps.database.require();
    const existing = await findOwnedByCardHash(db, clientId, hashOf(card));
    if (existing) return { character: view(existing, card), alreadyImported: true, warnings, from };
    const created = await insertOwnedCharacter(db, {
      ...scenarioOf(card, `my-${randomUUID().slice(0, 12)}`, image),
      ownerClientId: clientId,
      // The card's own prompt is used (server/chat/character-prompt.ts); empty, {{original}} is Parley's default.
      systemPrompt: "",
      isActive: true,
    });
    if (image) await saveCharacterImage(db, created.id, image.contentType, image.bytes);
    return { character: view(created, card), alreadyImported: false, warnings, from };
  }

  /**
   * A card into the gallery, for an admin: hidden until published (the admin's Scenarios tab), its
   * definition as private as any scenario's system prompt. The same card again is recognised.
   */
  async function importToGallery(bytes: Uint8Array) {
    const { card, image, warnings } = readCardFile(bytes);
    const db = deps.database.require();
    const existing = await findGalleryByCardHash(db, hashOf(card));
    if (existing) return { scenario: existing, alreadyImported: true, warnings };
    const slugBase = card.data.name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || "character";
    const scenario = await insertScenario(db, {
      ...scenarioOf(card, `${slugBase}-${randomUUID().slice(0, 6)}`, undefined),
      // What {{original}} in the card's own system prompt stands for; the admin may change it.
      systemPrompt: DEFAULT_CHARACTER_PROMPT,
      isActive: false,
    });
    // Stored for the card's export; the gallery tile keeps a DiceBear avatar, which the admin's form can edit.
    if (image) await saveCharacterImage(db, scenario.id, image.contentType, image.bytes);
    return { scenario, alreadyImported: false, warnings };
  }

  async function list(clientId: string): Promise<CharacterView[]> {
    const rows = await listOwnedCharacters(deps.database.require(), clientId);
    return rows.map(({ card, ...s }) => view(s, card));
  }

  /** The card back out: V3 JSON, a PNG carrying it (ccv3 and a V2 chara) in the character's picture, or CHARX. */
  async function exportCard(clientId: string, slug: string, format: "json" | "png" | "charx") {
    const found = await getOwnedCharacter(deps.database.require(), slug, clientId);
    if (!found?.card) throw notFound("Character");
    const { card, image } = found;
    const base = card.data.name.replace(/[^\p{L}\p{N} _-]+/gu, "").trim() || "character";
    if (format === "json") return { filename: `${base}.json`, contentType: "application/json", bytes: Buffer.from(JSON.stringify(card, null, 2)) };
    if (format === "png") {
      if (image?.contentType !== "image/png") throw new AppError(409, "no_image", "This character has no PNG picture to carry its card: export it as JSON or CHARX");
      return { filename: `${base}.png`, contentType: "image/png", bytes: Buffer.from(writePngCard(image.bytes, card)) };
    }
    // The card's own icon goes back where its card says it lives.
    const icon = card.data.assets?.find((a) => a.type === "icon" && a.uri.startsWith("embeded://"));
    const assets = new Map<string, Uint8Array>(icon && image ? [[icon.uri.slice("embeded://".length), image.bytes]] : []);
    return { filename: `${base}.charx`, contentType: "application/zip", bytes: Buffer.from(writeCharx(card, assets)) };
  }

  async function image(clientId: string | undefined, slug: string) {
    return getCharacterImage(deps.database.require(), slug, clientId);
  }

  return { importCard, importToGallery, list, exportCard, image };
}

export type CharacterService = ReturnType<typeof createCharacterService>;
