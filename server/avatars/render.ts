import { createAvatar, type Style } from "@dicebear/core";
import { adventurer, avataaars, bottts, funEmoji, lorelei, notionists, personas, pixelArt } from "@dicebear/collection";
import { AVATAR_STYLES, type AvatarStyle } from "../../contracts/avatar-styles.js";

export { AVATAR_STYLES, MAX_SEED_LENGTH } from "../../contracts/avatar-styles.js";

/** Styles offered for characters, by the names used in URLs and in scenario rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const STYLES: Record<AvatarStyle, Style<any>> = {
  "pixel-art": pixelArt,
  avataaars,
  adventurer,
  bottts,
  "fun-emoji": funEmoji,
  lorelei,
  notionists,
  personas,
};


/** Rendered SVGs are deterministic per (style, seed); a small cache spares re-rendering the gallery. */
const cache = new Map<string, string>();
const CACHE_LIMIT = 512;

export function renderAvatar(style: string, seed: string): string | undefined {
  if (!(AVATAR_STYLES as readonly string[]).includes(style)) return undefined;
  const def = STYLES[style as AvatarStyle];
  const key = `${style}\u0000${seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const svg = createAvatar(def, { seed }).toString();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, svg);
  return svg;
}
