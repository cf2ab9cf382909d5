import { parseCardJson, invalidCard, type ParsedCard } from "./card-json.js";
import { embeddedAsset, readCharx } from "./charx.js";
import { readPngCard, withoutCard } from "./png-card.js";

/** The largest card file Parley takes (a PNG with its art, or a CHARX with its assets). */
export const MAX_CARD_BYTES = 20 * 1024 * 1024;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** A character's picture: its bytes (never with a card inside) and what they are. */
export type CardImage = { contentType: "image/png" | "image/jpeg" | "image/webp"; bytes: Uint8Array };

/** A picture by its first bytes; anything else (or a PNG that cannot be read) is no picture. */
function pictureOf(bytes: Uint8Array | undefined): CardImage | undefined {
  if (!bytes) return undefined;
  if (startsWith(bytes, PNG)) {
    try {
      return { contentType: "image/png", bytes: withoutCard(bytes) };
    } catch {
      return undefined;
    }
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { contentType: "image/jpeg", bytes };
  if (startsWith(bytes, RIFF) && Buffer.from(bytes.subarray(8, 12)).toString("latin1") === "WEBP") return { contentType: "image/webp", bytes };
  return undefined;
}
const RIFF = [0x52, 0x49, 0x46, 0x46];

/** A card file of any format, told by its first bytes (not its name): PNG/APNG, CHARX, or JSON. */
export function readCardFile(bytes: Uint8Array): ParsedCard & { format: "png" | "charx" | "json"; image?: CardImage; assets?: Map<string, Uint8Array> } {
  if (startsWith(bytes, PNG)) {
    const parsed = parseCardJson(readPngCard(bytes));
    return { ...parsed, format: "png", image: { contentType: "image/png", bytes: withoutCard(bytes) } };
  }
  if (startsWith(bytes, ZIP)) {
    const charx = readCharx(bytes);
    const parsed = parseCardJson(charx.cardJson);
    const icon = parsed.card.data.assets?.find((a) => a.type === "icon" && a.name === "main") ?? parsed.card.data.assets?.find((a) => a.type === "icon");
    const image = pictureOf(icon ? embeddedAsset(charx, icon.uri) : undefined);
    return { ...parsed, format: "charx", assets: charx.assets, ...(image ? { image } : {}) };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalidCard("This file is not a character card: not a PNG, a CHARX archive or JSON");
  }
  return { ...parseCardJson(json), format: "json" };
}
