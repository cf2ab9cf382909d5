import { createAvatar, type Style } from "@dicebear/core";
// Each style from its own package: the collection would load all thirty (~25 MB) for the eight offered.
import * as adventurer from "@dicebear/adventurer";
import * as avataaars from "@dicebear/avataaars";
import * as bottts from "@dicebear/bottts";
import * as funEmoji from "@dicebear/fun-emoji";
import * as lorelei from "@dicebear/lorelei";
import * as notionists from "@dicebear/notionists";
import * as personas from "@dicebear/personas";
import * as pixelArt from "@dicebear/pixel-art";
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
