import { z } from "zod";
import { missingOrWrong } from "./json-input.js";

/**
 * Character cards as SillyTavern, RisuAI, Agnai and card sites write them: V1 (the fields at the
 * top level), V2 (`chara_card_v2`, fields under `data`) and V3 (`chara_card_v3`). Parley keeps every
 * card as V3, whole: fields it does not know and every `extensions` key ride along, so an export
 * gives back what was imported. Tolerant where real cards are sloppy (missing arrays, nulls),
 * strict about what must be there (a name).
 */

const text = z.preprocess((v) => (v == null ? "" : v), z.string());
const strings = z.preprocess((v) => (v == null ? [] : v), z.array(z.string()));
const extensions = z.preprocess((v) => (v == null || typeof v !== "object" || Array.isArray(v) ? {} : v), z.record(z.string(), z.unknown()));

/** One lorebook entry as cards carry it (V2 `character_book`, V3 `lorebook`); SillyTavern's settings sit in `extensions`. */
export const cardLoreEntrySchema = z
  .object({
    keys: strings,
    content: text,
    extensions,
    enabled: z.boolean().default(true),
    insertion_order: z.number().default(100),
    case_sensitive: z.boolean().optional(),
    use_regex: z.boolean().optional(),
    constant: z.boolean().optional(),
    name: z.string().optional(),
    priority: z.number().optional(),
    id: z.union([z.number(), z.string()]).optional(),
    comment: z.string().optional(),
    selective: z.boolean().optional(),
    secondary_keys: strings.optional(),
    position: z.enum(["before_char", "after_char"]).or(z.literal("")).optional(),
  })
  .loose();
export type CardLoreEntry = z.infer<typeof cardLoreEntrySchema>;

export const cardLorebookSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    scan_depth: z.number().optional(),
    token_budget: z.number().optional(),
    recursive_scanning: z.boolean().optional(),
    extensions,
    entries: z.preprocess((v) => (v == null ? [] : v), z.array(cardLoreEntrySchema)),
  })
  .loose();
export type CardLorebook = z.infer<typeof cardLorebookSchema>;

/** The V3 `data` object: V2's fields plus V3's own. */
export const cardDataSchema = z
  .object({
    name: z.string(missingOrWrong("The card has no name", "The card's name is not text")).trim().min(1, "The card has no name"),
    description: text,
    personality: text,
    scenario: text,
    first_mes: text,
    mes_example: text,
    creator_notes: text,
    system_prompt: text,
    post_history_instructions: text,
    alternate_greetings: strings,
    // `null` means none, as real cards write it.
    character_book: z.preprocess((v) => (v === null ? undefined : v), cardLorebookSchema.optional()),
    tags: strings,
    creator: text,
    character_version: text,
    extensions,
    // V3
    nickname: z.string().optional(),
    creator_notes_multilingual: z.record(z.string(), z.string()).optional(),
    source: z.array(z.string()).optional(),
    group_only_greetings: strings,
    creation_date: z.number().optional(),
    modification_date: z.number().optional(),
    assets: z.array(z.object({ type: z.string(), uri: z.string(), name: z.string(), ext: z.string() }).loose()).optional(),
  })
  .loose();
export type CardData = z.infer<typeof cardDataSchema>;

export type CardV3 = { spec: "chara_card_v3"; spec_version: string; data: CardData };

/** What a person (or an admin) may change of a character's card in Parley's editor; what is left out stays as it is. */
export const characterEditSchema = z
  .object({
    name: z.string().trim().min(1, "Give the character a name").max(120),
    nickname: z.string().max(120),
    description: z.string().max(50_000),
    personality: z.string().max(20_000),
    scenario: z.string().max(20_000),
    first_mes: z.string().max(50_000),
    alternate_greetings: z.array(z.string().max(50_000)).max(50, "At most 50 alternate greetings"),
    mes_example: z.string().max(50_000),
    system_prompt: z.string().max(20_000),
    post_history_instructions: z.string().max(20_000),
    creator_notes: z.string().max(20_000),
    tags: z.array(z.string().trim().min(1).max(30, "A tag is at most 30 characters")).max(12, "At most 12 tags"),
    creator: z.string().max(200),
    character_version: z.string().max(100),
  })
  .partial();
export type CharacterEdit = z.infer<typeof characterEditSchema>;

/** A lorebook saved from the editor: the whole book (what the editor does not show rides along), and its name. */
export const lorebookSaveSchema = z.object({
  name: z.string().trim().min(1, "Give the lorebook a name").max(200),
  book: cardLorebookSchema,
});
