import { z } from "zod";
import { resolveMacros, type MacroNames } from "../../contracts/macros.js";
import { badRequest } from "../errors.js";
import type { MessageRole } from "../../contracts/enums.js";

/**
 * A conversation as files people move between role-play apps: SillyTavern's chat JSONL (a header
 * line, then one line per message of the thread, a reply's swipes beside it) and Markdown to read.
 * Pure: the chat service reads and writes the database.
 */

/** One message of the thread, with the versions beside it (itself included) when it has any. */
export type ThreadEntry = {
  role: MessageRole;
  content: string;
  createdAt: Date;
  /** The contents of its versions, oldest first, and which of them is on the thread. */
  versions?: { contents: string[]; chosen: number };
};

/** SillyTavern's date as its chats write it: "2024-5-5 @12h 30m 00s 000ms". */
function stDate(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()} @${pad(d.getHours())}h ${pad(d.getMinutes())}m ${pad(d.getSeconds())}s ${pad(d.getMilliseconds(), 3)}ms`;
}

/** The thread as SillyTavern JSONL. Macros stay as written: SillyTavern reads them the same way. */
export function toSillyTavernJsonl(thread: ThreadEntry[], names: MacroNames, createdAt: Date): string {
  const header = { user_name: names.user, character_name: names.char, create_date: stDate(createdAt), chat_metadata: {} };
  const lines = thread.map((m) => {
    const line: Record<string, unknown> = {
      name: m.role === "user" ? names.user : names.char,
      is_user: m.role === "user",
      is_system: false,
      send_date: stDate(m.createdAt),
      mes: m.content,
      extra: {},
    };
    // SillyTavern swipes only the character's lines; the person's other versions stay in Parley.
    if (m.role === "assistant" && m.versions && m.versions.contents.length > 1) {
      line.swipes = m.versions.contents;
      line.swipe_id = m.versions.chosen;
    }
    return JSON.stringify(line);
  });
  return [JSON.stringify(header), ...lines].join("\n") + "\n";
}

/** The thread to read: a title, then who said what, macros resolved. */
export function toMarkdown(thread: ThreadEntry[], names: MacroNames, title: string): string {
  const out = [`# ${title}`, "", `*${names.user} and ${names.char}*`, ""];
  for (const m of thread) {
    out.push(`**${m.role === "user" ? names.user : names.char}:** ${resolveMacros(m.content, names)}`, "");
  }
  return out.join("\n");
}

const headerLine = z.looseObject({
  user_name: z.string().optional(),
  character_name: z.string().optional(),
  chat_metadata: z.unknown().optional(),
});
const messageLine = z.looseObject({
  name: z.string().optional(),
  is_user: z.boolean(),
  is_system: z.boolean().optional(),
  mes: z.string(),
  send_date: z.union([z.string(), z.number()]).optional(),
  swipes: z.array(z.string()).optional(),
  swipe_id: z.number().int().nonnegative().optional(),
});

/** What an imported chat may hold: generous for a months-long story, bounded for the database. */
export const IMPORT_LIMITS = { messages: 100_000, messageChars: 200_000 };

/**
 * Reads a SillyTavern chat: the header line, then its messages (hidden system notes skipped). A
 * line that is not what SillyTavern writes is refused with its number, and nothing is created.
 */
export function parseSillyTavernJsonl(text: string): ThreadEntry[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const parse = (line: string, n: number): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw badRequest("invalid_chat_file", `Line ${n} of the chat file is not JSON: this is not a SillyTavern chat (.jsonl)`);
    }
  };
  if (lines.length === 0) throw badRequest("invalid_chat_file", "The chat file is empty");
  const header = headerLine.safeParse(parse(lines[0]!, 1));
  const first = parse(lines[0]!, 1) as Record<string, unknown>;
  if (!header.success || (first.user_name === undefined && first.character_name === undefined && first.chat_metadata === undefined)) {
    throw badRequest("invalid_chat_file", "Line 1 of the chat file is not a SillyTavern chat header (user_name, character_name, chat_metadata)");
  }
  if (lines.length - 1 > IMPORT_LIMITS.messages) {
    throw badRequest("invalid_chat_file", `The chat has more than ${IMPORT_LIMITS.messages} messages`);
  }
  const thread: ThreadEntry[] = [];
  lines.slice(1).forEach((line, i) => {
    const n = i + 2;
    const parsed = messageLine.safeParse(parse(line, n));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw badRequest("invalid_chat_file", `Line ${n} of the chat file is not a message: ${issue.path.join(".") || "line"}: ${issue.message}`);
    }
    const m = parsed.data;
    if (m.is_system) return; // SillyTavern's hidden notes are not part of the conversation
    const swipes = !m.is_user && m.swipes && m.swipes.length > 1 ? m.swipes : undefined;
    const chosen = swipes ? Math.min(m.swipe_id ?? 0, swipes.length - 1) : 0;
    for (const text of swipes ?? [m.mes]) {
      if (text.length > IMPORT_LIMITS.messageChars) {
        throw badRequest("invalid_chat_file", `Line ${n} of the chat file holds a message longer than ${IMPORT_LIMITS.messageChars} characters`);
      }
      if (text.includes("\u0000")) throw badRequest("invalid_characters", `Line ${n} of the chat file contains a NUL character, which cannot be stored`);
    }
    const date = m.send_date === undefined ? NaN : typeof m.send_date === "number" ? m.send_date : Date.parse(m.send_date);
    thread.push({
      role: m.is_user ? "user" : "assistant",
      // The swipe shown is the message's text; SillyTavern keeps them equal, a hand-edited file may not.
      content: swipes ? swipes[chosen]! : m.mes,
      createdAt: Number.isFinite(date) ? new Date(date) : new Date(),
      ...(swipes ? { versions: { contents: swipes, chosen } } : {}),
    });
  });
  if (thread.length === 0) throw badRequest("invalid_chat_file", "The chat file holds no messages");
  return thread;
}
