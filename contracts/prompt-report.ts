import type { ChatRole } from "./enums.js";

/**
 * "What the model saw" for one reply: its prompt as sent, part by part, what was left out to fit
 * the model's window, and which lore entries fired and why. Stored with the reply (the history by
 * reference: messages never change in place), shown to the character's owner or an admin.
 */
export type PromptPartKind = "system" | "example" | "history" | "lore" | "post_history";

export type StoredPromptPart =
  | { kind: "history"; role: ChatRole; messageId: string }
  /**
   * Consecutive history messages, kept by their ends: the thread's walk from `toId` up to `fromId`
   * gives them back (those with text). A long story's prompt holds thousands of messages; one part
   * each made every reply's report ~100 KB.
   */
  | { kind: "history_run"; fromId: string; toId: string; count: number }
  | { kind: Exclude<PromptPartKind, "history">; role: ChatRole; content: string; depth?: number };

/** One lorebook entry the reply's prompt drew on, or left out for the budget. */
export type LoreFired = {
  book: string;
  entry: string;
  /** The primary key that matched; none for a constant entry. */
  key?: string;
  why: "constant" | "key" | "recursion";
  /** before_char | after_char | depth N as role */
  position: string;
  tokens: number;
};

export type PromptReport = {
  model: string;
  provider: string;
  contextLength: number;
  maxTokens: number | null;
  tokenizer: string;
  parts: StoredPromptPart[];
  trimmed: {
    /** Messages of the thread above the oldest one sent. */
    historyLeftOut: number;
    examplesDropped: number;
    /** Lore that fired but did not fit its book's budget. */
    lore: LoreFired[];
  };
  lore: LoreFired[];
  /** What {{user}} and {{char}} stood for. */
  names: { user: string; char: string };
};

/** As the browser gets it: the history parts with their text. */
export type PromptPartView =
  | { kind: "history"; role: ChatRole; messageId: string; content: string }
  | Exclude<StoredPromptPart, { kind: "history" | "history_run" }>;
export type PromptReportView = Omit<PromptReport, "parts"> & { parts: PromptPartView[] };
