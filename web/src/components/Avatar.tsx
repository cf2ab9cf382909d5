export function Avatar({ style, seed, size = 48, alt }: { style: string; seed: string; size?: number; alt: string }) {
  return (
    <img
      className="avatar"
      src={`/avatars/${encodeURIComponent(style)}/${encodeURIComponent(seed)}.svg`}
      width={size}
      height={size}
      alt={alt}
      loading="lazy"
    />
  );
}
