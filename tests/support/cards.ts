import { crc32, deflateSync } from "node:zlib";

/** PNG bytes written here, chunk by chunk, with no library: a 1×1 image and whatever chunks a case needs. */
export function png(extra: { type: string; data: Buffer }[] = [], opts: { badCrcOn?: string } = {}): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((crc32(body) ^ (opts.badCrcOn === type ? 1 : 0)) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  const idat = deflateSync(Buffer.from([0, 200, 100, 50, 255]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...extra.map((c) => chunk(c.type, c.data)),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export const tEXt = (keyword: string, text: string) => ({
  type: "tEXt",
  data: Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0]), Buffer.from(text, "latin1")]),
});

export const b64 = (o: unknown) => Buffer.from(JSON.stringify(o), "utf8").toString("base64");

/** A card as a PNG with a `chara` chunk, the way most cards are shared. */
export const cardPng = (card: unknown) => png([tEXt("chara", b64(card))]);
