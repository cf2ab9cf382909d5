import { deflateSync } from "node:zlib";
import { b64, png, tEXt } from "../support/cards.js";
import { describe, expect, it } from "vitest";
import { parseCardJson } from "../../server/cards/card-json.js";
import { lorebookFromCard, lorebookFromWorldInfo, readLorebookFile, withDecorators } from "../../server/cards/lorebook-formats.js";
import { loreEntrySchema, type LoreEntry } from "../../contracts/lorebook.js";
import sharp from "sharp";
import { thumbnail, THUMB_SIZE } from "../../server/cards/thumbnail.js";
import { readCardChunks, readPngCard, writePngCard } from "../../server/cards/png-card.js";
import { CHARX_LIMITS, embeddedAsset, readCharx, writeCharx } from "../../server/cards/charx.js";
import { strToU8, zipSync } from "fflate";
import { cardLorebookSchema } from "../../contracts/character-card.js";
import { AppError } from "../../server/errors.js";

const chunkTypes = (bytes: Uint8Array) => {
  const b = Buffer.from(bytes);
  const types: string[] = [];
  for (let at = 8; at < b.length; at += 12 + b.readUInt32BE(at)) types.push(b.toString("latin1", at + 4, at + 8));
  return types;
};

const v2 = {
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name: "Mira",
    description: "A cartographer.",
    personality: "curious",
    scenario: "A map shop.",
    first_mes: "Welcome, {{user}}!",
    mes_example: "<START>\n{{user}}: hi\n{{char}}: hello",
    creator_notes: "For map lovers.",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: ["Oh, a customer."],
    character_book: null,
    tags: ["fantasy"],
    creator: "someone",
    character_version: "1.2",
    extensions: { talkativeness: "0.5", depth_prompt: { prompt: "x", depth: 4 } },
  },
};
const v3 = {
  spec: "chara_card_v3",
  spec_version: "3.0",
  data: {
    ...v2.data,
    name: "Mira (V3)",
    nickname: "Mi",
    group_only_greetings: [],
    character_book: {
      name: "Map lore",
      extensions: {},
      entries: [
        { keys: ["Old Harbour"], content: "@@depth 2\nThe harbour silted up in 1820.", extensions: { position: 4, depth: 2, role: 0, selectiveLogic: 3 }, enabled: true, insertion_order: 50, use_regex: false },
      ],
    },
    unknown_v3_field: { kept: true },
  },
};

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : String(err);
  }
  return "no error";
};

describe("reading character cards", () => {
  it("reads a V2 card from a PNG's chara chunk, keeping every field and extension", () => {
    const { card, from, warnings } = parseCardJson(readPngCard(png([tEXt("chara", b64(v2))])));
    expect(from).toBe("v2");
    expect(warnings).toEqual([]);
    expect(card.spec).toBe("chara_card_v3");
    expect(card.data).toMatchObject({ name: "Mira", alternate_greetings: ["Oh, a customer."], extensions: v2.data.extensions, group_only_greetings: [] });
    expect(card.data.character_book).toBeUndefined(); // null means none
  });

  it("prefers ccv3 when both chunks are there, and reads a V3 card found in a chara chunk as V3", () => {
    const both = png([tEXt("chara", b64(v2)), tEXt("ccv3", b64(v3))]);
    expect(parseCardJson(readPngCard(both)).card.data.name).toBe("Mira (V3)");
    const v3InChara = parseCardJson(readPngCard(png([tEXt("chara", b64(v3))])));
    expect(v3InChara.from).toBe("v3");
    expect(v3InChara.card.data.nickname).toBe("Mi");
  });

  it("ignores every other chunk: zTXt, iTXt, eXIf and other tEXt", () => {
    const noisy = png([
      tEXt("Comment", "made with love"),
      { type: "zTXt", data: Buffer.concat([Buffer.from("chara\0\0"), deflateSync(Buffer.from("not the card"))]) },
      { type: "iTXt", data: Buffer.from("XML:com.adobe.xmp\0\0\0\0\0<x/>") },
      { type: "eXIf", data: Buffer.from("MM\0*\0\0\0\b\0\0") },
      tEXt("chara", b64(v2)),
    ]);
    expect(parseCardJson(readPngCard(noisy)).card.data.name).toBe("Mira");
  });

  it("refuses a corrupt PNG, a PNG without a card, and a chunk that is not JSON, each with a clear message", () => {
    expect(codeOf(() => readPngCard(png([tEXt("chara", b64(v2))], { badCrcOn: "tEXt" })))).toMatch(/^invalid_card: The PNG is corrupt/);
    expect(codeOf(() => readPngCard(png([tEXt("chara", b64(v2))]).subarray(0, 40)))).toMatch(/^invalid_card: The PNG is corrupt/);
    expect(codeOf(() => readPngCard(Buffer.from("not a png at all")))).toMatch(/^invalid_card: The PNG is corrupt/);
    expect(codeOf(() => readPngCard(png()))).toMatch(/^invalid_card: This image holds no character card/);
    expect(codeOf(() => readPngCard(png([tEXt("chara", "%%%not base64 json")])))).toMatch(/^invalid_card: The card in this image is not readable JSON/);
  });

  it("reads V1 cards, V2 cards without V1's top-level copies, and V3 cards without group-only greetings", () => {
    const v1 = { name: "Old", description: "d", personality: "p", scenario: "s", first_mes: "hi", mes_example: "" };
    expect(parseCardJson(v1)).toMatchObject({ from: "v1", card: { data: { name: "Old", first_mes: "hi", alternate_greetings: [] } } });
    expect(parseCardJson({ spec: "chara_card_v2", spec_version: "2.0", data: { name: "Bare" } }).card.data).toMatchObject({ name: "Bare", description: "" });
    const { group_only_greetings: _, ...noGroup } = v3.data;
    expect(parseCardJson({ ...v3, data: noGroup }).card.data.group_only_greetings).toEqual([]);
  });

  it("imports a newer spec version with a warning, and refuses what is not a card", () => {
    const newer = parseCardJson({ ...v3, spec_version: "3.1" });
    expect(newer.warnings[0]).toMatch(/3\.1.*newer than Parley knows/);
    expect(newer.card.data).toMatchObject({ unknown_v3_field: { kept: true } });
    expect(codeOf(() => parseCardJson({ hello: "world" }))).toMatch(/^invalid_card: This file holds no character card/);
    expect(codeOf(() => parseCardJson([1, 2]))).toMatch(/^invalid_card/);
    expect(codeOf(() => parseCardJson({ spec: "chara_card_v9" }))).toMatch(/Unknown card format "chara_card_v9"/);
    expect(codeOf(() => parseCardJson({ spec: "chara_card_v2", data: { name: "  " } }))).toMatch(/no name/);
    expect(codeOf(() => parseCardJson({ spec: "chara_card_v2", data: {} }))).toMatch(/no name/);
    expect(codeOf(() => parseCardJson({ spec: "chara_card_v2", data: { name: 7 } }))).toMatch(/name is not text/);
  });
});

describe("writing character cards", () => {
  it("writes ccv3 and a V2 chara backfill before IEND, keeps the image's own chunks, and reads back deep-equal", () => {
    const original = png([tEXt("Comment", "keep me"), tEXt("chara", b64({ spec: "chara_card_v2", data: { name: "Stale" } }))]);
    const { card } = parseCardJson(v3);
    const written = writePngCard(original, card);
    expect(chunkTypes(written)).toEqual(["IHDR", "tEXt", "IDAT", "tEXt", "tEXt", "IEND"]);
    expect(parseCardJson(readPngCard(written)).card).toEqual(card);

    // The backfill, as a V2-only reader sees it: no V3 fields, no decorators.
    const backfill = JSON.parse(Buffer.from(readCardChunks(written).chara!, "base64").toString("utf8"));
    expect(backfill.spec).toBe("chara_card_v2");
    expect(backfill.data.nickname).toBeUndefined();
    expect(backfill.data.group_only_greetings).toBeUndefined();
    expect(backfill.data.character_book.entries[0].content).toBe("The harbour silted up in 1820.");
    expect(backfill.data.character_book.entries[0].use_regex).toBeUndefined();
  });
});

describe("lorebooks from cards and World Info files", () => {
  it("lifts SillyTavern's settings out of an entry's extensions", () => {
    const book = lorebookFromCard(cardLorebookSchema.parse(v3.data.character_book));
    expect(book.entries[0]).toMatchObject({
      keys: ["Old Harbour"],
      insertionOrder: 50,
      selectiveLogic: "and_all",
      position: { at: "depth", depth: 2, role: "system" },
      extensions: { position: 4, depth: 2, role: 0, selectiveLogic: 3 },
    });
  });

  it("reads SillyTavern's World Info file", () => {
    const book = lorebookFromWorldInfo({
      entries: {
        "0": { uid: 0, key: ["dragon"], keysecondary: ["red"], comment: "Dragons", content: "Dragons hoard.", selective: true, selectiveLogic: 2, order: 10, position: 1, disable: false, matchWholeWords: true, scanDepth: 5 },
        "1": { uid: 1, key: [], content: "Always.", constant: true, disable: true, position: 4, depth: 3, role: 2 },
      },
    });
    expect(book.entries).toMatchObject([
      { name: "Dragons", keys: ["dragon"], secondaryKeys: ["red"], selective: true, selectiveLogic: "not_any", insertionOrder: 10, position: { at: "after_char" }, enabled: true, matchWholeWords: true, scanDepth: 5 },
      { constant: true, enabled: false, position: { at: "depth", depth: 3, role: "assistant" } },
    ]);
    expect(() => lorebookFromWorldInfo({ nope: 1 })).toThrow(/entries/);
  });

  it("takes each kind of lorebook file, and refuses what is none with a clear error", () => {
    const entry = { keys: ["k"], content: "c", extensions: { x: 1 }, enabled: true, insertion_order: 1 };
    expect(readLorebookFile({ spec: "lorebook_v3", data: { name: "V3", entries: [entry], extensions: {} } })).toMatchObject({ name: "V3", entries: [entry] });
    expect(readLorebookFile({ name: "Bare", entries: [entry] })).toMatchObject({ name: "Bare" });
    expect(readLorebookFile({ entries: { "0": { uid: 0, key: ["k"], content: "c" } } }).entries[0]).toMatchObject({ keys: ["k"], content: "c" });
    expect(readLorebookFile({ spec: "chara_card_v2", data: { character_book: { entries: [entry] } } }).entries).toHaveLength(1);
    const refused = (json: unknown) => {
      try {
        readLorebookFile(json);
      } catch (err) {
        return err as AppError;
      }
      throw new Error("accepted");
    };
    expect(refused([1, 2])).toMatchObject({ status: 400, code: "invalid_lorebook" });
    expect(refused({ hello: 1 }).message).toMatch(/no lorebook/);
    expect(refused({ spec: "chara_card_v3", data: {} }).message).toMatch(/no lorebook/);
    expect(refused({ entries: [{ keys: "not a list", content: 1 }] }).message).toMatch(/malformed: entries\.0/);
    // A World Info entry that is not an object is named, not met with a JavaScript error (or taken as an empty entry).
    expect(refused({ entries: { "0": null } }).message).toBe('The lorebook is malformed: entry "0" is not an object');
    expect(refused({ entries: { "0": { key: ["k"], content: "c" }, dragon: [1, { deep: null }] } }).message).toMatch(/entry "dragon" is not an object/);
    expect(refused({ entries: Array.from({ length: 5001 }, () => entry) }).message).toMatch(/malformed/);
  });
});

describe("V3 decorators", () => {
  const decorated = (content: string, fields: Partial<LoreEntry> = {}) => withDecorators(loreEntrySchema.parse({ keys: ["k"], content, ...fields }));
  it.each([
    ["@@activate: always in", "@@activate\nText", { constant: true, content: "Text" }],
    ["@@dont_activate: never", "@@dont_activate\nText", { enabled: false, content: "Text" }],
    ["@@depth and @@role: inside the history", "@@depth 3\n@@role assistant\nText", { position: { at: "depth", depth: 3, role: "assistant" } }],
    ["@@depth alone: as system", "@@depth 0\nText", { position: { at: "depth", depth: 0, role: "system" } }],
    ["@@position after_desc", "@@position after_desc\nText", { position: { at: "after_char" } }],
    ["@@scan_depth", "@@scan_depth 7\nText", { scanDepth: 7 }],
    ["@@additional_keys: one of them too", "@@additional_keys night, moon\nText", { selective: true, selectiveLogic: "and_any", secondaryKeys: ["night", "moon"] }],
    ["@@exclude_keys: none of them", "@@exclude_keys day\nText", { selective: true, selectiveLogic: "not_any", secondaryKeys: ["day"] }],
    ["unknown and @@@ fallback lines: left out, ignored", "@@is_greeting 1\n@@@depth 2\nText", { content: "Text", position: { at: "before_char" } }],
    ["no decorators: as written", "Text\n@@depth 3", { content: "Text\n@@depth 3", position: { at: "before_char" } }],
  ])("%s", (_name, content, expected) => {
    expect(decorated(content)).toMatchObject(expected);
  });
});

describe("CHARX archives", () => {
  const icon = png();
  const charxCard = { ...v3, data: { ...v3.data, assets: [{ type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" }] } };

  it("reads card.json and the assets it names by embeded://", () => {
    const zip = zipSync({ "card.json": strToU8(JSON.stringify(charxCard)), "assets/icon/images/main.png": icon, "assets/": new Uint8Array() });
    const charx = readCharx(zip);
    const { card } = parseCardJson(charx.cardJson);
    expect(card.data.name).toBe("Mira (V3)");
    expect(Buffer.from(embeddedAsset(charx, card.data.assets![0]!.uri)!)).toEqual(icon);
    expect(embeddedAsset(charx, "ccdefault:")).toBeUndefined();
  });

  it("writes an archive that reads back deep-equal, assets included", () => {
    const { card } = parseCardJson(charxCard);
    const back = readCharx(writeCharx(card, new Map([["assets/icon/images/main.png", icon]])));
    expect(parseCardJson(back.cardJson).card).toEqual(card);
    expect(Buffer.from(back.assets.get("assets/icon/images/main.png")!)).toEqual(icon);
  });

  it("refuses a ZIP without card.json, a broken ZIP, entries that leave the archive, and decompression bombs", () => {
    expect(codeOf(() => readCharx(zipSync({ "other.json": strToU8("{}") })))).toMatch(/^invalid_card: The CHARX file has no card.json/);
    expect(codeOf(() => readCharx(strToU8("PK not really a zip")))).toMatch(/^invalid_card: The CHARX file is not a readable ZIP/);
    expect(codeOf(() => readCharx(zipSync({ "card.json": strToU8("{oops") })))).toMatch(/card.json is not readable JSON/);
    for (const evil of ["../evil.txt", "assets/../../evil.txt", "/etc/passwd", "C:/evil.txt", "assets\\..\\evil.txt"]) {
      expect(codeOf(() => readCharx(zipSync({ "card.json": strToU8("{}"), [evil]: strToU8("x") }))), evil).toMatch(/outside the archive/);
    }
    const zeros = zipSync({ "card.json": strToU8("{}"), "assets/big.bin": new Uint8Array(8 * 1024 * 1024) });
    expect(codeOf(() => readCharx(zeros))).toMatch(/decompression bomb/);
    expect(codeOf(() => readCharx(zeros, { ...CHARX_LIMITS, maxEntryBytes: 1024 * 1024 }))).toMatch(/decompression bomb/);
    expect(codeOf(() => readCharx(zeros, { ...CHARX_LIMITS, maxArchiveBytes: 1000 }))).toMatch(/^card_too_large/);
  });
});

describe("a card's picture made small", () => {
  it("becomes a square WebP of the avatar size, cropped, whatever its shape", async () => {
    const tall = await sharp({ create: { width: 300, height: 900, channels: 3, background: "#336699" } }).png().toBuffer();
    const out = await thumbnail(tall);
    expect(await sharp(out).metadata()).toMatchObject({ format: "webp", width: THUMB_SIZE, height: THUMB_SIZE });
  });
  it("refuses what is no picture, so the original is served instead", async () => {
    await expect(thumbnail(Buffer.from("not a picture"))).rejects.toThrow();
  });
});
