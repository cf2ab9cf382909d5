import { createHash, randomUUID } from "node:crypto";
import type { CharacterView } from "../../contracts/api-views.js";
import { MAX_SEED_LENGTH } from "../../contracts/avatar-styles.js";
import type { CardV3 } from "../../contracts/character-card.js";
import { readCardFile } from "../cards/card-file.js";
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

/**
 * A person's own characters ("My characters"): imported from cards, theirs alone like their
 * conversations. Each is a scenario owned by the person's client, keeping its card whole.
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
    const parsed = readCardFile(bytes);
    const { card } = parsed;
    const cardHash = createHash("sha256").update(JSON.stringify(card)).digest("hex");
    const db = deps.database.require();
    const existing = await findOwnedByCardHash(db, clientId, cardHash);
    if (existing) return { character: view(existing, card), alreadyImported: true, warnings: parsed.warnings, from: parsed.from };
    const d = card.data;
    const slug = `my-${randomUUID().slice(0, 12)}`;
    const summary = (d.creator_notes.trim() || d.description.trim()).replace(/\s+/g, " ").slice(0, SUMMARY_CHARS);
    const created = await insertOwnedCharacter(db, {
      ownerClientId: clientId,
      slug,
      title: d.name,
      characterName: characterNameOf(d),
      description: summary || d.name,
      category: "story",
      tags: d.tags.slice(0, 12),
      contentRating: "general",
      openingMessage: d.first_mes.trim() ? d.first_mes : `*${characterNameOf(d)} is here.*`,
      // The card's own picture when it has one (the Avatar component's "card" style), else DiceBear.
      ...(parsed.image ? { avatarStyle: CARD_AVATAR_STYLE, avatarSeed: slug } : { avatarStyle: "adventurer", avatarSeed: d.name.slice(0, MAX_SEED_LENGTH) }),
      // The card's own prompt is used (server/chat/character-prompt.ts); this is what {{original}} stands for.
      systemPrompt: "",
      isActive: true,
      card,
      cardHash,
    });
    if (parsed.image) await saveCharacterImage(db, created.id, "image/png", parsed.image);
    return { character: view(created, card), alreadyImported: false, warnings: parsed.warnings, from: parsed.from };
  }

  /**
   * A card into the gallery, for an admin: hidden until published (the admin's Scenarios tab), its
   * definition as private as any scenario's system prompt. The same card again is recognised.
   */
  async function importToGallery(bytes: Uint8Array) {
    const parsed = readCardFile(bytes);
    const { card } = parsed;
    const cardHash = createHash("sha256").update(JSON.stringify(card)).digest("hex");
    const db = deps.database.require();
    const existing = await findGalleryByCardHash(db, cardHash);
    if (existing) return { scenario: existing, alreadyImported: true, warnings: parsed.warnings };
    const d = card.data;
    const slugBase = d.name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || "character";
    const scenario = await insertScenario(db, {
      slug: `${slugBase}-${randomUUID().slice(0, 6)}`,
      title: d.name.slice(0, 120),
      characterName: characterNameOf(d).slice(0, 80),
      description: (d.creator_notes.trim() || d.description.trim()).replace(/\s+/g, " ").slice(0, SUMMARY_CHARS) || d.name,
      category: "story",
      // Within what the admin's form accepts, so the scenario can be edited as it is.
      tags: d.tags.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 30).slice(0, 12),
      contentRating: "general",
      openingMessage: d.first_mes.trim() ? d.first_mes : `*${characterNameOf(d)} is here.*`,
      avatarStyle: "adventurer",
      avatarSeed: d.name.slice(0, MAX_SEED_LENGTH),
      // What {{original}} in the card's own system prompt stands for; the admin may change it.
      systemPrompt: DEFAULT_CHARACTER_PROMPT,
      isActive: false,
      card,
      cardHash,
    });
    if (parsed.image) await saveCharacterImage(db, scenario.id, "image/png", parsed.image);
    return { scenario, alreadyImported: false, warnings: parsed.warnings };
  }

  async function list(clientId: string): Promise<CharacterView[]> {
    const rows = await listOwnedCharacters(deps.database.require(), clientId);
    return rows.map(({ card, createdAt: _, ...s }) => view(s, card));
  }

  /** The card back out: V3 JSON, a PNG carrying it (ccv3 and a V2 chara) in the character's picture, or CHARX. */
  async function exportCard(clientId: string, slug: string, format: "json" | "png" | "charx") {
    const found = await getOwnedCharacter(deps.database.require(), slug, clientId);
    if (!found?.card) throw notFound("Character");
    const { card, image } = found;
    const base = card.data.name.replace(/[^\p{L}\p{N} _-]+/gu, "").trim() || "character";
    if (format === "json") return { filename: `${base}.json`, contentType: "application/json", bytes: Buffer.from(JSON.stringify(card, null, 2)) };
    if (format === "png") {
      if (!image) throw new AppError(409, "no_image", "This character has no picture to carry its card: export it as JSON or CHARX");
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
