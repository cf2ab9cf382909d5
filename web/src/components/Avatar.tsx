import { useState } from "react";
import { CARD_AVATAR_STYLE } from "../../../contracts/avatar-styles";

const dicebear = (style: string, seed: string) => `/avatars/${encodeURIComponent(style)}/${encodeURIComponent(seed)}.svg`;

/** A DiceBear avatar, or a character's own picture from its card (DiceBear when that cannot be shown, say while hidden). */
export function Avatar({ style, seed, size = 48, alt }: { style: string; seed: string; size?: number; alt: string }) {
  const [failed, setFailed] = useState(false);
  const own = style === CARD_AVATAR_STYLE && !failed;
  return (
    <img
      className="avatar"
      src={own ? `/api/characters/${encodeURIComponent(seed)}/image` : dicebear(style === CARD_AVATAR_STYLE ? "adventurer" : style, seed)}
      onError={own ? () => setFailed(true) : undefined}
      width={size}
      height={size}
      alt={alt}
      loading="lazy"
    />
  );
}
