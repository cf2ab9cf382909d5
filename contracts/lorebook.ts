import { z } from "zod";
import { CHAT_ROLES } from "./enums.js";

/**
 * A lorebook as Parley keeps it: the Character Card V2 `character_book` / V3 `lorebook` shape,
 * with the SillyTavern World Info settings that cards carry in `extensions` lifted into fields of
 * their own. The readers in server/cards/ map every source format onto this; what Parley does not
 * know stays in `extensions`, so an export gives it back.
 */
export const SELECTIVE_LOGICS = ["and_any", "not_all", "not_any", "and_all"] as const;
export type SelectiveLogic = (typeof SELECTIVE_LOGICS)[number];

export const lorePositionSchema = z.discriminatedUnion("at", [
  z.object({ at: z.literal("before_char") }),
  z.object({ at: z.literal("after_char") }),
  /** Inside the history, `depth` messages above its end, spoken by `role`. */
  z.object({ at: z.literal("depth"), depth: z.number().int().min(0).max(10_000), role: z.enum(CHAT_ROLES) }),
]);
export type LorePosition = z.infer<typeof lorePositionSchema>;

export const loreEntrySchema = z.object({
  id: z.union([z.number(), z.string()]).optional(),
  name: z.string().max(200).optional(),
  comment: z.string().max(2000).optional(),
  /** Primary keys: plain text, or `/pattern/flags` for a regular expression. */
  keys: z.array(z.string().max(500)).max(100),
  secondaryKeys: z.array(z.string().max(500)).max(100).default([]),
  content: z.string().max(100_000),
  enabled: z.boolean().default(true),
  /** Always in, whatever the conversation says. */
  constant: z.boolean().default(false),
  /** Needs its secondary keys too, by `selectiveLogic`. */
  selective: z.boolean().default(false),
  selectiveLogic: z.enum(SELECTIVE_LOGICS).default("and_any"),
  /** Unset: the book's setting, else case-insensitive / substrings. */
  caseSensitive: z.boolean().optional(),
  matchWholeWords: z.boolean().optional(),
  /** Every key is a regular expression, written with or without slashes (V3 `use_regex`). */
  useRegex: z.boolean().default(false),
  /** How many of the newest messages are searched; unset: the book's, else 2. */
  scanDepth: z.number().int().min(0).max(1000).optional(),
  insertionOrder: z.number().default(100),
  position: lorePositionSchema.default({ at: "before_char" }),
  /** Recursion: never activated by other entries' content / its content never activates others. */
  excludeRecursion: z.boolean().default(false),
  preventRecursion: z.boolean().default(false),
  extensions: z.record(z.string(), z.unknown()).default({}),
});
export type LoreEntry = z.infer<typeof loreEntrySchema>;

export const lorebookSchema = z.object({
  name: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  scanDepth: z.number().int().min(0).max(1000).optional(),
  /** Tokens the book's entries may take in a prompt; unset: a share of the model's window. */
  tokenBudget: z.number().int().min(0).optional(),
  recursiveScanning: z.boolean().default(false),
  entries: z.array(loreEntrySchema).max(5000),
  extensions: z.record(z.string(), z.unknown()).default({}),
});
export type Lorebook = z.infer<typeof lorebookSchema>;
