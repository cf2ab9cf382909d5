import type { RequestRecord } from "../gateway/types.js";
import type { Logger } from "../logger.js";
import { getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { requestLog, type RequestLogInsert } from "../db/schema.js";
import { errorFields } from "../error-report.js";

/** Rows held while the database is away; beyond this the oldest are dropped (and counted). */
const MAX_BUFFERED = 10_000;
const MAX_BATCH = 100;

/** A row as its JSON carries it: the time as ISO text (a Date's toJSON is the slow path of JSON.stringify). */
type RowJson = Omit<RequestLogInsert, "createdAt"> & { createdAt: string };

const toRow = (r: RequestRecord): RowJson => ({
  createdAt: r.at.toISOString(),
  clientId: r.clientId ?? null,
  sessionId: r.sessionId ?? null,
  apiKeyId: r.apiKeyId ?? null,
  cachedTokens: r.cachedTokens ?? null,
  cacheWriteTokens: r.cacheWriteTokens ?? null,
  reasoningTokens: r.reasoningTokens ?? null,
  generationId: r.generationId ?? null,
  task: r.task,
  requestedModel: r.requestedModel ?? null,
  provider: r.provider ?? null,
  model: r.model ?? null,
  status: r.status,
  attempts: r.attempts,
  ttftMs: r.ttftMs ?? null,
  totalMs: r.totalMs,
  promptTokens: r.promptTokens,
  completionTokens: r.completionTokens,
  tokensEstimated: r.tokensEstimated,
  cost: r.cost,
  error: r.error ?? null,
});

/**
 * One statement whose text never changes, the batch as a single JSON parameter: building a
 * 500-row insert through the query builder (8,000 parameters) cost more of a busy instance's CPU
 * than the requests it logged. The rows are serialised as they are, keyed by their fields' names,
 * which the record type names as columns (an absent field is null); columns and types come from the table.
 */
const columns = Object.entries(getTableColumns(requestLog)).filter(([, c]) => !c.generatedIdentity);
const columnNames = sql.raw(columns.map(([, c]) => c.name).join(", "));
const fieldNames = sql.raw(columns.map(([key]) => `"${key}"`).join(", "));
const recordType = sql.raw(columns.map(([key, c]) => `"${key}" ${c.getSQLType()}`).join(", "));
const insertRows = (rows: string[]) =>
  sql`insert into request_log (${columnNames}) select ${fieldNames}
    from jsonb_to_recordset(${`[${rows.join(",")}]`}::jsonb) as r(${recordType})`;

/**
 * Writes request records in batches, off the request path: multi-row inserts once per interval.
 * A crash loses at most one interval of rows; `close` writes everything still buffered.
 *
 * A row waits as its JSON text, one flat string: held as objects (a Date, the attempts, ~25 of
 * them a row), a busy second's ~2,500 rows were megabytes of small objects for every scavenge to
 * copy and promote, in the pauses that make the event loop's longest delays under load.
 */
export class RequestLogWriter {
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(
    private readonly db: () => Database | undefined,
    private readonly flushMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  push(record: RequestRecord): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.buffer.shift();
      if (this.dropped++ === 0) this.log.error("request log buffer full: the database has been away too long; dropping the oldest rows");
    }
    this.buffer.push(JSON.stringify(toRow(record)));
  }

  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const db = this.db();
    while (db && this.buffer.length > 0) {
      const batch = this.buffer.slice(0, MAX_BATCH);
      try {
        await db.execute(insertRows(batch));
        this.buffer.splice(0, batch.length);
      } catch (err) {
        this.log.error({ ...errorFields(err), rows: batch.length }, "request_log write failed; will retry");
        return;
      }
    }
  }

  /** Stops the timer and writes what is left (waiting for a write under way first). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
