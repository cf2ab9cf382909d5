import type { HistoryRow } from "../db/queries/sessions.js";

export type { HistoryRow };

type Entry = { leafId: string; rows: HistoryRow[]; maxChars: number; chars: number; complete: boolean };

/**
 * The newest stretch of each active conversation's thread, kept between replies so the next one
 * reads nothing of its history from the database: a 10,000-message story answers as fast as a new
 * one. An entry is valid only for the leaf it ends at. Messages are never rewritten (an edit or a
 * swipe is a new row), and every change of the thread moves the session's leaf, which the reply's
 * claim reads from the database: so a change made on another instance is a miss here, never stale.
 * Least recently used entries go first once the cache holds `maxTotalChars` of text.
 */
export class PathCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly maxTotalChars: number) {}

  /**
   * The thread ending at `endId`, within `maxChars` of text (newest kept), if this cache can tell
   * it: `endId` is one of the cached messages, or `extra` (a message just written) follows one.
   */
  get(sessionId: string, endId: string, maxChars: number, extra?: HistoryRow): HistoryRow[] | undefined {
    const found = this.locate(sessionId, endId, maxChars, extra);
    if (!found) return undefined;
    const { e, at, below } = found;
    this.entries.delete(sessionId); // most recently used goes last
    this.entries.set(sessionId, e);
    // The newest rows within maxChars (the newest always kept), copied once: a long story's stretch
    // holds a couple of thousand rows, and this runs on the way to every reply's first token.
    let chars = below ? below.content.length : 0;
    let start = at + 1;
    while (start > 0) {
      const next = chars + e.rows[start - 1]!.content.length;
      if (next > maxChars && (below || start <= at)) break;
      chars = next;
      start--;
    }
    const rows = e.rows.slice(start, at + 1);
    if (below) rows.push(below);
    return rows;
  }

  /** Whether `get` would answer, without copying the rows or touching the order of use. */
  covers(sessionId: string, endId: string, maxChars: number): boolean {
    return this.locate(sessionId, endId, maxChars) !== undefined;
  }

  /** Where the thread ending at `endId` ends in the cached stretch (`below`: a message just written under it). */
  private locate(sessionId: string, endId: string, maxChars: number, extra?: HistoryRow) {
    const e = this.entries.get(sessionId);
    if (!e) return undefined;
    // A wider window than the entry was read for needs more than it holds, unless it holds everything.
    if (maxChars > e.maxChars && !e.complete) return undefined;
    // A message just written below one of the cached ones (a new message, an edit's new version) follows them.
    const below = extra && extra.id === endId ? extra : undefined;
    const lastId = below ? below.parentId : endId;
    const at = lastId === null ? -1 : e.rows.findLastIndex((r) => r.id === lastId);
    return at < 0 ? undefined : { e, at, below };
  }

  /** Remembers the thread ending at its last row; `complete` when it reaches the conversation's first message. */
  set(sessionId: string, rows: HistoryRow[], maxChars: number, complete: boolean): void {
    this.delete(sessionId);
    const leaf = rows.at(-1);
    if (!leaf) return;
    const trimmed = trim(rows, maxChars);
    if (trimmed.chars > this.maxTotalChars) return;
    const entry = { leafId: leaf.id, rows: trimmed.rows, maxChars, chars: trimmed.chars, complete: complete && trimmed.rows.length === rows.length };
    this.entries.set(sessionId, entry);
    this.total += entry.chars;
    for (const [id, old] of this.entries) {
      if (this.total <= this.maxTotalChars) break;
      this.entries.delete(id);
      this.total -= old.chars;
    }
  }

  /** The message the conversation's cached stretch ends at, if one is cached. */
  leafOf(sessionId: string): string | undefined {
    return this.entries.get(sessionId)?.leafId;
  }

  delete(sessionId: string): void {
    const e = this.entries.get(sessionId);
    if (!e) return;
    this.entries.delete(sessionId);
    this.total -= e.chars;
  }
}

/** The newest rows holding at most `maxChars` of text (the newest always kept). */
function trim(rows: HistoryRow[], maxChars: number): { rows: HistoryRow[]; chars: number } {
  let chars = 0;
  let start = rows.length;
  while (start > 0) {
    const next = chars + rows[start - 1]!.content.length;
    if (next > maxChars && start < rows.length) break;
    chars = next;
    start--;
  }
  return { rows: start === 0 ? rows : rows.slice(start), chars };
}
