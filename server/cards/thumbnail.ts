/**
 * A character's picture made small for avatars: a square WebP, cropped to the middle (the face of
 * a portrait card is mostly there). sharp (libvips) is loaded on first use only, so a server that
 * never sees a card never holds it in memory.
 */

/** Pixels per side: twice the largest avatar Parley draws (64 px), for sharp screens. */
export const THUMB_SIZE = 160;

export async function thumbnail(bytes: Uint8Array): Promise<Uint8Array> {
  const { default: sharp } = await import("sharp");
  // Reads the first frame of an animated picture; a picture larger than ~40 megapixels is refused.
  const out = await sharp(bytes, { limitInputPixels: 40_000_000, animated: false })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: "cover", position: "attention" })
    .webp({ quality: 82 })
    .toBuffer();
  return new Uint8Array(out);
}
