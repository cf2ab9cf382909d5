import { createAvatar, type Style } from "@dicebear/core";
import { adventurer, avataaars, bottts, funEmoji, lorelei, notionists, personas, pixelArt } from "@dicebear/collection";

/** Styles offered for characters, by the names used in URLs and in scenario rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const STYLES: Record<string, Style<any>> = {
  "pixel-art": pixelArt,
  avataaars,
  adventurer,
  bottts,
  "fun-emoji": funEmoji,
  lorelei,
  notionists,
  personas,
};

export const AVATAR_STYLES = Object.keys(STYLES);
export const MAX_SEED_LENGTH = 64;

/** Rendered SVGs are deterministic per (style, seed); a small cache spares re-rendering the gallery. */
const cache = new Map<string, string>();
const CACHE_LIMIT = 512;

export function renderAvatar(style: string, seed: string): string | undefined {
  const def = STYLES[style];
  if (!def) return undefined;
  const key = `${style}\u0000${seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const svg = createAvatar(def, { seed }).toString();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, svg);
  return svg;
}
