import { CARD_AVATAR_STYLE } from "../../../contracts/avatar-styles";

/** A DiceBear avatar, or a character's own picture from its card. */
export function Avatar({ style, seed, size = 48, alt }: { style: string; seed: string; size?: number; alt: string }) {
  return (
    <img
      className="avatar"
      src={style === CARD_AVATAR_STYLE ? `/api/characters/${encodeURIComponent(seed)}/image` : `/avatars/${encodeURIComponent(style)}/${encodeURIComponent(seed)}.svg`}
      width={size}
      height={size}
      alt={alt}
      loading="lazy"
    />
  );
}
