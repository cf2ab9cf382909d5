import extractChunks from "png-chunks-extract";
import encodeChunks from "png-chunks-encode";
import pngText from "png-chunk-text";
import type { CardV3 } from "../../contracts/character-card.js";
import { invalidCard, toV2 } from "./card-json.js";

/**
 * Cards in PNG (and APNG) images: base64 JSON in `tEXt` chunks, `chara` (V2, or older) and `ccv3`
 * (V3). The chunk libraries are the ones SillyTavern itself reads and writes cards with; every
 * other chunk (`zTXt`, `iTXt`, `eXIf`, other `tEXt`) is left alone.
 */

const CARD_KEYWORDS = ["ccv3", "chara"] as const;

/** The card JSON a PNG carries: `ccv3` when present, else `chara`. */
export function readPngCard(bytes: Uint8Array): unknown {
  const found = readCardChunks(bytes);
  const encoded = found.ccv3 ?? found.chara;
  if (encoded === undefined) throw invalidCard("This image holds no character card (no chara or ccv3 text chunk)");
  try {
    return JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch {
    throw invalidCard("The card in this image is not readable JSON");
  }
}

/** The card chunks' texts (base64), by keyword: the first of each. */
export function readCardChunks(bytes: Uint8Array): Partial<Record<(typeof CARD_KEYWORDS)[number], string>> {
  let chunks: { name: string; data: Uint8Array }[];
  try {
    chunks = extractChunks(bytes);
  } catch (err) {
    throw invalidCard(`The PNG is corrupt: ${(err as Error).message}`);
  }
  const texts = new Map<string, string>();
  for (const c of chunks) {
    if (c.name !== "tEXt") continue;
    const { keyword, text } = pngText.decode(c.data);
    const k = keyword.toLowerCase();
    if ((CARD_KEYWORDS as readonly string[]).includes(k) && !texts.has(k)) texts.set(k, text);
  }
  return Object.fromEntries(texts);
}

/** The image's chunks without any card in them. */
const pictureChunks = (image: Uint8Array) =>
  extractChunks(image).filter((c) => c.name !== "tEXt" || !(CARD_KEYWORDS as readonly string[]).includes(pngText.decode(c.data).keyword.toLowerCase()));

/**
 * The picture alone, the card taken out: what is stored and served as an avatar, so a character's
 * definition never travels inside its picture to whoever may see the picture.
 */
export const withoutCard = (image: Uint8Array): Uint8Array => encodeChunks(pictureChunks(image));

/** The image with the card in it: `ccv3` (V3) and a `chara` V2 backfill, replacing any card it held. */
export function writePngCard(image: Uint8Array, card: CardV3): Uint8Array {
  const chunks = pictureChunks(image);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o), "utf8").toString("base64");
  const end = chunks.findIndex((c) => c.name === "IEND");
  chunks.splice(end < 0 ? chunks.length : end, 0, pngText.encode("chara", b64(toV2(card))), pngText.encode("ccv3", b64(card)));
  return encodeChunks(chunks);
}
