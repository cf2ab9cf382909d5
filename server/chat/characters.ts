import { createHash, randomUUID } from "node:crypto";
import type { CharacterView } from "../../contracts/api-views.js";
import { MAX_SEED_LENGTH } from "../../contracts/avatar-styles.js";
import type { CardV3 } from "../../contracts/character-card.js";
import { readCardFile } from "../cards/card-file.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { findOwnedByCardHash, insertOwnedCharacter, listOwnedCharacters } from "../db/queries/scenarios.js";
import type { PublicScenario } from "../views.js";
import { characterNameOf } from "./character-prompt.js";

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
    const summary = (d.creator_notes.trim() || d.description.trim()).replace(/\s+/g, " ").slice(0, SUMMARY_CHARS);
    const created = await insertOwnedCharacter(db, {
      ownerClientId: clientId,
      slug: `my-${randomUUID().slice(0, 12)}`,
      title: d.name,
      characterName: characterNameOf(d),
      description: summary || d.name,
      category: "story",
      tags: d.tags.slice(0, 12),
      contentRating: "general",
      openingMessage: d.first_mes.trim() ? d.first_mes : `*${characterNameOf(d)} is here.*`,
      avatarStyle: "adventurer",
      avatarSeed: d.name.slice(0, MAX_SEED_LENGTH),
      // The card's own prompt is used (server/chat/character-prompt.ts); this is what {{original}} stands for.
      systemPrompt: "",
      isActive: true,
      card,
      cardHash,
    });
    return { character: view(created, card), alreadyImported: false, warnings: parsed.warnings, from: parsed.from };
  }

  async function list(clientId: string): Promise<CharacterView[]> {
    const rows = await listOwnedCharacters(deps.database.require(), clientId);
    return rows.map(({ card, createdAt: _, ...s }) => view(s, card));
  }

  return { importCard, list };
}

export type CharacterService = ReturnType<typeof createCharacterService>;
