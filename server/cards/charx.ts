import { strFromU8, strToU8, unzipSync, zipSync, type UnzipFileInfo } from "fflate";
import type { CardV3 } from "../../contracts/character-card.js";
import { AppError } from "../errors.js";
import { invalidCard } from "./card-json.js";

/**
 * CHARX: a ZIP with `card.json` at its root and the card's assets beside it, addressed from the
 * card as `embeded://path` (the spec's own spelling). fflate reads and writes the ZIP (pure
 * JavaScript, maintained, and it lets each entry be looked at before it is inflated).
 */

export type CharxLimits = {
  /** The whole archive, as uploaded. */
  maxArchiveBytes: number;
  /** One entry, inflated (as its header declares; fflate never inflates past that). */
  maxEntryBytes: number;
  /** Every entry taken, inflated. */
  maxTotalBytes: number;
  /** How much an entry may grow when inflated: past this it is a decompression bomb. */
  maxRatio: number;
};

export const CHARX_LIMITS: CharxLimits = {
  maxArchiveBytes: 50 * 1024 * 1024,
  maxEntryBytes: 20 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  maxRatio: 200,
};

export type Charx = { cardJson: unknown; assets: Map<string, Uint8Array> };

/** A name that stays inside the archive: no parent steps, no absolute paths, no drive letters, no backslashes. */
const safeName = (name: string) => !/(^|\/)\.\.(\/|$)|^\/|^[A-Za-z]:|\\|\0/.test(name);

export function readCharx(bytes: Uint8Array, limits: CharxLimits = CHARX_LIMITS): Charx {
  if (bytes.length > limits.maxArchiveBytes) {
    throw new AppError(413, "card_too_large", `The CHARX file is larger than ${Math.round(limits.maxArchiveBytes / 1024 / 1024)} MB`);
  }
  let total = 0;
  const check = (f: UnzipFileInfo) => {
    if (!safeName(f.name)) throw invalidCard(`The CHARX file has an entry outside the archive ("${f.name}"), which Parley refuses`);
    if (f.name.endsWith("/")) return false;
    const bomb = f.originalSize > limits.maxEntryBytes || (f.originalSize > 1024 * 1024 && f.originalSize > f.size * limits.maxRatio);
    total += f.originalSize;
    if (bomb || total > limits.maxTotalBytes) throw invalidCard(`The CHARX file inflates to more than Parley takes ("${f.name}"): it looks like a decompression bomb`);
    return true;
  };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: check });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalidCard(`The CHARX file is not a readable ZIP: ${(err as Error).message}`);
  }
  const card = files["card.json"];
  if (!card) throw invalidCard("The CHARX file has no card.json at its root");
  let cardJson: unknown;
  try {
    cardJson = JSON.parse(strFromU8(card));
  } catch {
    throw invalidCard("The CHARX file's card.json is not readable JSON");
  }
  const assets = new Map(Object.entries(files).filter(([name]) => name !== "card.json"));
  return { cardJson, assets };
}

/** An asset a card names by `embeded://path`, when the archive has it. */
export function embeddedAsset(charx: Charx, uri: string): Uint8Array | undefined {
  return uri.startsWith("embeded://") ? charx.assets.get(uri.slice("embeded://".length)) : undefined;
}

/** The card and its assets as a CHARX archive. */
export function writeCharx(card: CardV3, assets: Map<string, Uint8Array> = new Map()): Uint8Array {
  const files: Record<string, Uint8Array> = { "card.json": strToU8(JSON.stringify(card)) };
  for (const [name, data] of assets) if (safeName(name) && name !== "card.json") files[name] = data;
  return zipSync(files);
}
