import { parseCardJson, invalidCard, type ParsedCard } from "./card-json.js";
import { embeddedAsset, readCharx } from "./charx.js";
import { readPngCard } from "./png-card.js";

/** The largest card file Parley takes (a PNG with its art, or a CHARX with its assets). */
export const MAX_CARD_BYTES = 20 * 1024 * 1024;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** A card file of any format, told by its first bytes (not its name): PNG/APNG, CHARX, or JSON. */
export function readCardFile(bytes: Uint8Array): ParsedCard & { format: "png" | "charx" | "json"; image?: Uint8Array } {
  if (startsWith(bytes, PNG)) return { ...parseCardJson(readPngCard(bytes)), format: "png", image: bytes };
  if (startsWith(bytes, ZIP)) {
    const charx = readCharx(bytes);
    const parsed = parseCardJson(charx.cardJson);
    const icon = parsed.card.data.assets?.find((a) => a.type === "icon" && a.name === "main") ?? parsed.card.data.assets?.find((a) => a.type === "icon");
    const image = icon ? embeddedAsset(charx, icon.uri) : undefined;
    return { ...parsed, format: "charx", ...(image ? { image } : {}) };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalidCard("This file is not a character card: not a PNG, a CHARX archive or JSON");
  }
  return { ...parseCardJson(json), format: "json" };
}
