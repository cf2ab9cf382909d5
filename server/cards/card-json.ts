import { cardDataSchema, type CardData, type CardV3 } from "../../contracts/character-card.js";
import { AppError } from "../errors.js";

/** A card read from any format, as V3, with what the person should know about it. */
export type ParsedCard = { card: CardV3; from: "v1" | "v2" | "v3"; warnings: string[] };

/** The newest spec version Parley was written for; a newer card imports with a warning. */
const KNOWN_V3 = 3.0;

export const invalidCard = (message: string) => new AppError(400, "invalid_card", message);

/**
 * Reads card JSON of any version into V3. V1 keeps its fields at the top level; V2 and V3 under
 * `data` (a V2 card without V1's top-level copies is fine). A V3 card in a V2 place (a `chara`
 * chunk) is read as V3: the `spec` decides, not where it was found.
 */
export function parseCardJson(json: unknown): ParsedCard {
  if (!json || typeof json !== "object" || Array.isArray(json)) throw invalidCard("This file holds no character card");
  const o = json as Record<string, unknown>;
  const warnings: string[] = [];
  let from: ParsedCard["from"];
  let raw: unknown;
  if (o.spec === "chara_card_v3") {
    from = "v3";
    raw = o.data;
    const version = Number(o.spec_version);
    if (Number.isFinite(version) && version > KNOWN_V3) {
      warnings.push(`The card says it follows spec ${String(o.spec_version)}, newer than Parley knows (3.0); fields Parley does not know are kept as they are`);
    }
  } else if (o.spec === "chara_card_v2") {
    from = "v2";
    raw = o.data;
  } else if (typeof o.spec === "string") {
    throw invalidCard(`Unknown card format "${o.spec}"`);
  } else if (typeof o.name === "string" && ["description", "personality", "first_mes", "mes_example", "scenario"].some((k) => k in o)) {
    from = "v1";
    raw = o;
  } else throw invalidCard("This file holds no character card");

  const parsed = cardDataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidCard(`The card is malformed: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
  }
  return { card: { spec: "chara_card_v3", spec_version: "3.0", data: parsed.data }, from, warnings };
}

/** The fields V2 knows; everything else of V3's is left out of a V2 backfill. */
const V2_FIELDS = [
  "name",
  "description",
  "personality",
  "scenario",
  "first_mes",
  "mes_example",
  "creator_notes",
  "system_prompt",
  "post_history_instructions",
  "alternate_greetings",
  "character_book",
  "tags",
  "creator",
  "character_version",
  "extensions",
] as const satisfies readonly (keyof CardData)[];

/**
 * The same card for apps that read only V2 (the PNG `chara` chunk): V3-only fields dropped, and
 * lorebook decorators (V3's `@@` lines at the top of an entry's content) removed.
 */
export function toV2(card: CardV3): { spec: "chara_card_v2"; spec_version: "2.0"; data: Record<string, unknown> } {
  const data: Record<string, unknown> = {};
  for (const f of V2_FIELDS) if (card.data[f] !== undefined) data[f] = card.data[f];
  const book = card.data.character_book;
  if (book) {
    data.character_book = {
      ...book,
      entries: book.entries.map(({ use_regex: _, ...e }) => ({ ...e, content: splitDecorators(e.content).text })),
    };
  }
  return { spec: "chara_card_v2", spec_version: "2.0", data };
}

/** V3 decorators are lines starting with `@@` before an entry's text: those lines, and the text after them. */
export function splitDecorators(content: string): { decorators: string[]; text: string } {
  const lines = content.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("@@")) i++;
  return { decorators: lines.slice(0, i), text: lines.slice(i).join("\n") };
}
