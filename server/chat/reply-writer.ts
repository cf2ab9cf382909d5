import type { Database } from "../db/client.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import {
  completeReply,
  insertReply,
  releaseReply,
  renewClaim,
  updateStreamingReply,
} from "../db/queries/sessions.js";
import type { MessageRow, NewMessageRow } from "../db/schema.js";
import { errorFields } from "../error-report.js";
import type { RequestRecord } from "../gateway/types.js";
import type { Logger } from "../logger.js";
import { merge } from "../merge.js";

export type ReplyWriterOptions = {
  database: DatabaseLifecycle;
  log: Logger;
  instanceId: string;
  /** How often the text so far is saved and the claim renewed. */
  saveIntervalMs: number;
  /** How long the claim lasts unless renewed: a few save intervals, so a dead instance's lapses soon. */
  claimMs: number;
  /** How long a reply the database would not take is retried before it is given up (and logged). */
  retryForMs: number;
};

/** How the end of a reply went: stored (maybe with nothing to store), or not yet. */
export type Settled = { stored?: MessageRow; pending?: "database" | "error" };

/**
 * Writes one reply of one claimed session while it streams. The text so far is saved every
 * `saveIntervalMs` (not on every token), so a crash loses at most that much of what the person saw;
 * the same tick renews the session's claim. The end is written once, after any save under way.
 *
 * When the database will not take the end (an outage), the reply is kept in memory and tried again
 * until it is stored or `retryForMs` has passed; the session stays claimed meanwhile, so nothing is
 * written after a reply that is still waiting to be.
 */
export class ReplyWriter {
  private text = "";
  private savedText = "";
  private row: MessageRow | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private released = false;
  private meta: { provider: string; model: string; contextFromId: string | null } | undefined;

  constructor(
    private readonly opts: ReplyWriterOptions,
    private readonly sessionId: string,
    private readonly onReleased: () => void,
  ) {}

  /** The reply this one replaces (regenerate): superseded once the new one has text. */
  private replaces: string | undefined;

  replacing(id: string) {
    this.replaces = id;
  }

  /** The message the reply answers: its parent in the conversation's tree. */
  private parentId: string | null = null;

  replyTo(parentId: string | null) {
    this.parentId = parentId;
  }

  private get db(): Database | undefined {
    return this.opts.database.db;
  }

  /** Starts renewing the claim (and saving once text arrives). */
  start(): void {
    this.timer = setInterval(() => void this.enqueue(() => this.tick()), this.opts.saveIntervalMs);
    this.timer.unref();
  }

  servedBy(provider: string, model: string, contextFromId: string | null) {
    this.meta = { provider, model, contextFromId };
  }

  append(text: string): void {
    this.text += text;
  }

  /** Stores the reply as it ended, then releases the session; resolves with what was stored. */
  async finish(record: RequestRecord): Promise<Settled> {
    clearInterval(this.timer);
    const final = () => this.writeEnd(record);
    try {
      const stored = await this.enqueue(final);
      await this.release();
      return { stored };
    } catch (err) {
      const dbFailure = this.opts.database.noteFailure(err);
      if (!dbFailure) {
        this.opts.log.error(merge(errorFields(err), { session: this.sessionId }), "storing the reply failed");
        await this.release();
        return { pending: "error" };
      }
      void this.retry(final, Date.now() + this.opts.retryForMs);
      return { pending: "database" };
    }
  }

  /** Ends without a reply to store (it never started): just lets the session go. */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.chain.catch(() => {});
    await this.release();
  }

  private async retry(final: () => Promise<MessageRow | undefined>, until: number): Promise<void> {
    for (let wait = 500; Date.now() < until; wait = Math.min(wait * 2, 5000)) {
      await new Promise((r) => setTimeout(r, wait));
      try {
        await this.enqueue(final);
        this.opts.log.info({ session: this.sessionId }, "a reply held during a database outage was stored");
        await this.release();
        return;
      } catch (err) {
        if (!this.opts.database.noteFailure(err)) break;
      }
    }
    this.opts.log.error({ session: this.sessionId, chars: this.text.length }, "a reply could not be stored before giving up; it is lost");
    await this.release();
  }

  /** Writes run one after another: a tick never overtakes the end, nor the end a tick. */
  private enqueue<T>(write: () => Promise<T>): Promise<T> {
    const next = this.chain.then(write, write);
    this.chain = next.catch(() => {});
    return next;
  }

  private async tick(): Promise<void> {
    const db = this.db;
    if (!db) return;
    try {
      await renewClaim(db, this.sessionId, this.opts.instanceId, this.opts.claimMs);
      if (this.text === this.savedText || this.text.trim() === "") return;
      const text = this.text;
      if (this.row) await updateStreamingReply(db, this.row.id, text);
      else this.row = await insertReply(db, merge(this.rowFields(text), { finishReason: "streaming" }), this.replaces);
      this.savedText = text;
    } catch (err) {
      // The end tries again; a tick that failed only loses its interval.
      if (!this.opts.database.noteFailure(err)) this.opts.log.warn(merge(errorFields(err), { session: this.sessionId }), "saving a reply in progress failed");
    }
  }

  private rowFields(content: string): NewMessageRow {
    return {
      sessionId: this.sessionId,
      parentId: this.parentId,
      role: "assistant",
      content,
      provider: this.meta?.provider ?? null,
      model: this.meta?.model ?? null,
      contextFromId: this.meta?.contextFromId ?? null,
    };
  }

  /** The final row: nothing when no text came (and none was saved), else the streamed row completed. */
  private async writeEnd(r: RequestRecord): Promise<MessageRow | undefined> {
    const db = this.opts.database.require();
    // The gateway's record has the whole text; ours is the same, taken as it streamed.
    const content = r.text || this.text;
    const end = {
      content,
      finishReason: r.finishReason ?? "stop",
      provider: r.provider ?? this.meta?.provider ?? null,
      model: r.model ?? this.meta?.model ?? null,
      promptTokens: r.promptTokens,
      completionTokens: r.completionTokens,
      ttftMs: r.ttftMs ?? null,
      totalMs: r.totalMs,
      error: r.error ?? null,
    };
    if (this.row) return completeReply(db, this.row.id, end);
    if (content.trim() === "") return undefined;
    this.row = await insertReply(db, merge(this.rowFields(content), end), this.replaces);
    return this.row;
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const db = this.db;
    if (db) {
      await releaseReply(db, this.sessionId, this.opts.instanceId).catch((err: unknown) => {
        // Not fatal: the claim lapses by itself within claimMs.
        this.opts.log.warn(merge(errorFields(err), { session: this.sessionId }), "releasing the session failed; its claim will lapse");
      });
    }
    this.onReleased();
  }
}
