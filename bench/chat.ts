/**
 * What Parley adds to a streamed reply. The same scripted upstream, in a process of its own, answers
 * a direct request and a request through Parley's chat route (a real server process on PGlite,
 * storing the user message and the reply); the difference is Parley's overhead.
 * Loopback only, bounded: ROUNDS requests each way, one at a time.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import { createSession, startParley, type Client } from "../tests/support/parley.js";
import { startTempPostgres } from "../tests/support/postgres.js";
import { startUpstreamProcess } from "./children.js";
import { fmt, pct } from "./stats.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const WARMUP = 20;
const CHUNKS = Array.from({ length: 40 }, (_, i) => `word${i} `);
const MESSAGES_PER_SESSION = 10;

type Sample = { ttft: number; total: number };

async function timeStream(res: Response, isFirst: (ev: { event?: string; data: string }) => boolean): Promise<Sample> {
  const started = (res as Response & { startedAt: number }).startedAt;
  let ttft = -1;
  const events = res.body!.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream());
  for await (const ev of events) if (ttft < 0 && isFirst(ev)) ttft = performance.now() - started;
  return { ttft, total: performance.now() - started };
}

async function timed(run: () => Promise<Response>): Promise<Response> {
  const startedAt = performance.now();
  const res = await run();
  return Object.assign(res, { startedAt });
}


/** The chat section of RESULTS.md: the same run on the embedded database and on Postgres. */
export async function benchChat(): Promise<string> {
  const pglite = await benchChatOn("pglite");
  const postgres = await benchChatOn("postgres");
  return `## Chat reply: Parley's overhead over the upstream

${ROUNDS} sequential requests each way after ${WARMUP} warm-up, ${CHUNKS.length}-chunk streams, a new session every
${MESSAGES_PER_SESSION} messages, loopback. Issue 15's target for the chat route: added time to first delta p50 ≤ 3 ms on both.

${pglite}
${postgres}`;
}

async function benchChatOn(kind: "pglite" | "postgres"): Promise<string> {
  const pg = kind === "postgres" ? await startTempPostgres() : undefined;
  const upstream = await startUpstreamProcess();
  await upstream.setDefault({ kind: "stream", chunks: CHUNKS, usage: { prompt_tokens: 100, completion_tokens: CHUNKS.length } });
  const parley = await startParley({
    // The limiter runs on every request (its cost is in the figures) but never refuses one here.
    env: { DATABASE_URL: pg?.url, OPENROUTER_API_KEY: "sk-bench", OPENROUTER_BASE_URL: upstream.baseUrl, LOG_LEVEL: "info", PARLEY_API_KEYS: "pk-bench", RATE_LIMIT_PER_MIN: "1000000", RATE_LIMIT_PER_ADDRESS_PER_MIN: "1000000" },
  });
  try {
    const direct: Sample[] = [];
    const through: Sample[] = [];
    const v1: Sample[] = [];
    const v1Body = JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "hi" }], stream: true });
    const body = JSON.stringify({ model: "anthropic/claude-3-haiku", messages: [{ role: "user", content: "hi" }], stream: true });

    let client: Client = parley.client();
    let sessionId = "";
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      // Direct: the upstream alone.
      const d = await timeStream(
        await timed(() => fetch(`${upstream.baseUrl}/chat/completions`, { method: "POST", body, headers: { "content-type": "application/json" } })),
        (ev) => ev.data.includes('"content":"word'),
      );
      // Through Parley: the chat route, with its database writes.
      if (i % MESSAGES_PER_SESSION === 0) {
        client = parley.client();
        sessionId = await createSession(client);
      }
      const t = await timeStream(
        await timed(() =>
          client.fetch(`/api/sessions/${sessionId}/messages`, { method: "POST", body: JSON.stringify({ content: `message ${i}` }) }),
        ),
        (ev) => ev.event === "delta",
      );
      // Through /v1: the gateway alone (routing, accounting, the batched log), no session to store.
      const g = await timeStream(
        await timed(() =>
          fetch(`${parley.url}/v1/chat/completions`, {
            method: "POST",
            body: v1Body,
            headers: { "content-type": "application/json", authorization: "Bearer pk-bench" },
          }),
        ),
        (ev) => ev.data.includes('"content":"word'),
      );
      if (i >= WARMUP) {
        direct.push(d);
        through.push(t);
        v1.push(g);
      }
    }

    const rows = [
      ["time to first token, direct", direct.map((s) => s.ttft)],
      ["time to first token, through Parley's chat", through.map((s) => s.ttft)],
      ["time to first token, through /v1", v1.map((s) => s.ttft)],
      ["whole reply, direct", direct.map((s) => s.total)],
      ["whole reply, through Parley's chat", through.map((s) => s.total)],
      ["whole reply, through /v1", v1.map((s) => s.total)],
    ] as const;
    const table = [
      "| measure (ms) | p50 | p95 | p99 |",
      "|---|---|---|---|",
      ...rows.map(([name, xs]) => `| ${name} | ${fmt(pct([...xs], 50))} | ${fmt(pct([...xs], 95))} | ${fmt(pct([...xs], 99))} |`),
    ].join("\n");
    const overhead = pct(through.map((s) => s.ttft), 50) - pct(direct.map((s) => s.ttft), 50);
    const gatewayOverhead = pct(v1.map((s) => s.ttft), 50) - pct(direct.map((s) => s.ttft), 50);
    return `### ${kind === "pglite" ? "PGlite (embedded)" : "PostgreSQL"}

${table}

Median time-to-first-token overhead of the chat route: **${fmt(overhead)} ms** (storing the user message, loading the
session and history, building the prompt, the upstream call, relaying the first delta).

Median time-to-first-token overhead of the gateway alone (\`/v1\`: key check, routing, the upstream call,
accounting; the request log is written in batches off the path): **${fmt(gatewayOverhead)} ms**.
`;
  } finally {
    await parley.stop();
    upstream.stop();
    pg?.stop();
  }
}

