/** The avatar styles a scenario may use. Shared: the renderer draws them, the admin forms offer them. */
export const AVATAR_STYLES = ["pixel-art", "avataaars", "adventurer", "bottts", "fun-emoji", "lorelei", "notionists", "personas"] as const;
export type AvatarStyle = (typeof AVATAR_STYLES)[number];
export const MAX_SEED_LENGTH = 64;

/** Not a DiceBear style: the character's own picture from its card (`/api/characters/<slug>/image`, the slug as the seed). */
export const CARD_AVATAR_STYLE = "card";
