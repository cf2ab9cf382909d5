import type { LorebookSummaryView, LorebookView } from "../../contracts/api-views.js";
import type { CardLorebook } from "../../contracts/character-card.js";
import { checked, invalidLorebook, readLorebookFile } from "../cards/lorebook-formats.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import {
  attachLorebook,
  deleteLorebook,
  detachLorebook,
  findCharacter,
  getLorebook,
  insertLorebook,
  listLorebooks,
  updateLorebook,
  type Owner,
} from "../db/queries/lorebooks.js";
import { notFound } from "../errors.js";

export type { Owner };

/** A book's name: its own, else the file's, else a plain one. */
export const bookName = (book: CardLorebook, fallback = "Lorebook") => (book.name?.trim() || fallback).slice(0, 200);

/**
 * Lorebooks (World Info) as their owner keeps them: a person's (`owner` their client id) or the
 * gallery's (null, an admin's). Imported from a file or with a card, edited whole, attached to
 * any number of the owner's characters.
 */
export function createLorebookService(deps: { database: DatabaseLifecycle }) {
  const db = () => deps.database.require();

  async function list(owner: Owner): Promise<LorebookSummaryView[]> {
    return listLorebooks(db(), owner);
  }

  async function get(owner: Owner, id: string): Promise<LorebookView> {
    const [found] = await listLorebooks(db(), owner, id);
    const row = found && (await getLorebook(db(), id, owner));
    if (!found || !row) throw notFound("Lorebook");
    return { ...found, book: row.book };
  }

  /** A lorebook file (World Info, lorebook_v3, a card's book, or a card) of the owner's. */
  async function importFile(owner: Owner, text: string, fileName?: string): Promise<LorebookView> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalidLorebook("This file is not a lorebook: it is not JSON");
    }
    const book = readLorebookFile(json);
    const row = await insertLorebook(db(), { ownerClientId: owner, name: bookName(book, fileName?.replace(/\.json$/i, "")), book });
    return get(owner, row.id);
  }

  async function save(owner: Owner, id: string, input: { name: string; book: CardLorebook }): Promise<LorebookView> {
    const book = checked({ ...input.book, name: input.name });
    if (!(await updateLorebook(db(), id, owner, { name: input.name, book }))) throw notFound("Lorebook");
    return get(owner, id);
  }

  async function remove(owner: Owner, id: string): Promise<void> {
    if (!(await deleteLorebook(db(), id, owner))) throw notFound("Lorebook");
  }

  /** Both the book and the character must be the owner's. */
  async function both(owner: Owner, slug: string, id: string) {
    const [character, book] = await Promise.all([findCharacter(db(), slug, owner), getLorebook(db(), id, owner)]);
    if (!character) throw notFound("Character");
    if (!book) throw notFound("Lorebook");
    return { character, book };
  }

  async function attach(owner: Owner, slug: string, id: string): Promise<LorebookView> {
    const { character } = await both(owner, slug, id);
    await attachLorebook(db(), character.id, id);
    return get(owner, id);
  }

  async function detach(owner: Owner, slug: string, id: string): Promise<LorebookView> {
    const { character } = await both(owner, slug, id);
    if (!(await detachLorebook(db(), character.id, id))) throw notFound("Attachment");
    return get(owner, id);
  }

  /** The book as a V3 lorebook file, which SillyTavern, RisuAI and Parley read. */
  async function exportFile(owner: Owner, id: string) {
    const { book, name } = await get(owner, id);
    const base = name.replace(/[^\p{L}\p{N} _-]+/gu, "").trim() || "lorebook";
    return { filename: `${base}.json`, bytes: Buffer.from(JSON.stringify({ spec: "lorebook_v3", data: book }, null, 2)) };
  }

  return { list, get, importFile, save, remove, attach, detach, exportFile };
}

export type LorebookService = ReturnType<typeof createLorebookService>;
