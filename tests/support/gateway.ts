import { EventSourceParserStream } from "eventsource-parser/stream";
import type postgres from "postgres";
import { inject, vi } from "vitest";
import { createTestDatabase } from "./db.js";
import { startParley, type ParleyProcess } from "./parley.js";
import { ScriptedUpstream } from "./upstream.js";

export const HAIKU = "anthropic/claude-3-haiku";
export const SONNET = "anthropic/claude-3.5-sonnet";

export type LogRow = {
  id: number;
  client_id: string | null;
  session_id: string | null;
  task: string;
  requested_model: string | null;
  status: string;
  provider: string | null;
  model: string | null;
  attempts: { provider: string; model: string; status?: number; error?: string; ms: number }[];
  ttft_ms: number | null;
  total_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
  tokens_estimated: boolean;
  cost: number | null;
  error: string | null;
  cached_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  generation_id: string | null;
  api_key_id: string | null;
};

/** The highest request_log id so far: rows written after a request have larger ids. */
export async function lastLogId(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ max: number | null }[]>`select max(id)::int as max from request_log`;
  return row?.max ?? 0;
}

/**
 * Waits for the batched writer to store exactly one row after `after` (of this task, when given:
 * an earlier test's row may land late), and returns it.
 */
export async function logRowAfter(sql: postgres.Sql, after: number, task?: string): Promise<LogRow> {
  return vi.waitFor(
    async () => {
      const rows = await sql<LogRow[]>`select * from request_log where id > ${after} ${task ? sql`and task = ${task}` : sql``} order by id`;
      if (rows.length !== 1) throw new Error(`expected one request_log row after ${after}, found ${rows.length}`);
      return rows[0]!;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** Reads an OpenAI-style stream: the JSON chunks, and whether it ended with `[DONE]`. */
export async function readOpenAiStream(res: Response): Promise<{ chunks: any[]; done: boolean }> {
  const chunks: any[] = [];
  let done = false;
  const events = res.body!.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream());
  for await (const ev of events) {
    if (ev.data === "[DONE]") done = true;
    else chunks.push(JSON.parse(ev.data));
  }
  return { chunks, done };
}

/** Waits until the instance runs on the routing data now in the database (after an edit). */
export async function registryReloaded(parley: ParleyProcess, sql: postgres.Sql): Promise<void> {
  const [row] = await sql<{ v: number }[]>`select (value)::text::int as v from system_config where key = 'registry_version'`;
  await vi.waitFor(
    async () => {
      const health = (await (await fetch(`${parley.url}/api/health`)).json()) as { registryVersion: number };
      if (health.registryVersion < row!.v) throw new Error(`registry at ${health.registryVersion}, database at ${row!.v}`);
    },
    { timeout: 10_000, interval: 25 },
  );
}

export type GatewayStack = {
  upstream: ScriptedUpstream;
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  parley: ParleyProcess;
  stop(): Promise<void>;
};

/**
 * Parley on a fresh Postgres database with a scripted upstream as OpenRouter: the request log
 * flushed every 50 ms, and the breaker and rate limits out of the way unless `env` sets them.
 */
export async function startGatewayStack(env: Record<string, string>): Promise<GatewayStack> {
  const upstream = await ScriptedUpstream.start();
  const db = await createTestDatabase(inject("postgresUrl"));
  const parley = await startParley({
    env: {
      DATABASE_URL: db.url,
      OPENROUTER_BASE_URL: upstream.baseUrl,
      REQUEST_LOG_FLUSH_MS: "50",
      BREAKER_FAILURE_THRESHOLD: "1000",
      // These suites send many requests from one client; limits have their own (scale-out) tests.
      RATE_LIMIT_PER_MIN: "100000",
      ...env,
    },
  });
  return {
    upstream,
    db,
    parley,
    stop: async () => {
      await parley.stop();
      await upstream.close();
      await db.drop();
    },
  };
}
