/**
 * The local chat worker against node-llama-cpp called directly in this process: same model, prompt,
 * sampling, seeds, thread count and number of sequences. The difference is what the worker adds
 * (HTTP, SSE, the slot queue, prompt measuring). Rounds alternate between the two.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { chatWrappers, getLlama, LlamaChat, LlamaLogLevel, type ChatHistoryItem } from "node-llama-cpp";
import { startWorker, TEST_MODELS_DIR } from "../tests/support/worker.js";
import { loadWorkerConfig } from "../worker/config.js";
import { fmt, median } from "./stats.js";

const MODEL = path.resolve(process.env.BENCH_WORKER_MODEL ?? path.join(TEST_MODELS_DIR, "stories260K.gguf"));
const ROUNDS = Number(process.env.BENCH_WORKER_ROUNDS ?? 30);
const WARMUP = 3;
const MAX_TOKENS = 200;
const SYSTEM = "You are a friendly storyteller.";
const USER = "Tell me a story about a little dog who finds a red ball in the park.";
// The worker's defaults: threads = cores − 1, CHAT_WORKER_SLOTS sequences, CHAT_WORKER_CONTEXT tokens.
const { threads: THREADS, slots: SLOTS, contextSize: CONTEXT } = loadWorkerConfig({});

type Run = { ttft: number; total: number; tokens: number };

/** Decode speed of one stream: tokens after the first over the time after the first. */
const decodeRate = (r: Run) => (r.tokens - 1) / ((r.total - r.ttft) / 1000);

async function directEngine() {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: THREADS, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: MODEL });
  const context = await model.createContext({ contextSize: CONTEXT, sequences: SLOTS, threads: THREADS });
  // The same format the worker picks: the model's own template, else the `general` fallback.
  const own = model.fileInfo.metadata.tokenizer?.chat_template;
  const chats = Array.from({ length: SLOTS }, () => {
    const contextSequence = context.getSequence();
    return new LlamaChat({ contextSequence, chatWrapper: own ? "auto" : new chatWrappers.general() });
  });
  const history: ChatHistoryItem[] = [
    { type: "system", text: SYSTEM },
    { type: "user", text: USER },
    { type: "model", response: [] },
  ];
  const run = async (slot: number, seed: number): Promise<Run> => {
    const chat = chats[slot]!;
    const before = chat.sequence.tokenMeter.getState();
    const started = performance.now();
    let ttft = -1;
    await chat.generateResponse(history, {
      maxTokens: MAX_TOKENS,
      temperature: 0.8,
      topP: 0.95,
      seed,
      onTextChunk: (t) => {
        if (ttft < 0 && t !== "") ttft = performance.now() - started;
      },
    });
    return { ttft, total: performance.now() - started, tokens: chat.sequence.tokenMeter.diff(before).usedOutputTokens };
  };
  return { run, close: () => context.dispose().then(() => model.dispose()) };
}

async function workerRun(baseUrl: string, seed: number): Promise<Run> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "local",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: USER },
      ],
      max_tokens: MAX_TOKENS,
      temperature: 0.8,
      top_p: 0.95,
      seed,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  let ttft = -1;
  let tokens = 0;
  const events = res.body!.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream());
  for await (const ev of events) {
    if (ev.data === "[DONE]") continue;
    const chunk = JSON.parse(ev.data) as { choices: { delta?: { content?: string } }[]; usage?: { completion_tokens: number } };
    if (ttft < 0 && chunk.choices[0]?.delta?.content) ttft = performance.now() - started;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return { ttft, total: performance.now() - started, tokens };
}

/** `n` streams at once; each stream's own figures, and the tokens per second of them all together. */
async function together(n: number, one: (slot: number, seed: number) => Promise<Run>, round: number) {
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, (_, i) => one(i, round * 100 + i)));
  const wall = performance.now() - started;
  return { runs, throughput: runs.reduce((a, r) => a + r.tokens, 0) / (wall / 1000) };
}

/** The worker section of RESULTS.md, or a line saying why it was not run. */
export async function benchWorker(): Promise<string> {
  if (!existsSync(MODEL)) return `## Local chat worker\n\nNot run: no model at ${MODEL} (set BENCH_WORKER_MODEL).\n`;
  const direct = await directEngine();
  const worker = await startWorker({
    CHAT_WORKER_MODEL: MODEL,
    CHAT_WORKER_THREADS: String(THREADS),
    CHAT_WORKER_SLOTS: String(SLOTS),
    CHAT_WORKER_CONTEXT: String(CONTEXT),
  });
  try {
    const rows: string[] = [];
    const ratios: string[] = [];
    for (const n of [1, SLOTS]) {
      const d: { runs: Run[]; throughput: number }[] = [];
      const w: { runs: Run[]; throughput: number }[] = [];
      for (let i = 0; i < WARMUP + ROUNDS; i++) {
        const a = await together(n, direct.run, i);
        const b = await together(n, (_, seed) => workerRun(worker.baseUrl, seed), i);
        if (i >= WARMUP) {
          d.push(a);
          w.push(b);
        }
      }
      const stats = (xs: typeof d) => {
        const runs = xs.flatMap((x) => x.runs);
        return {
          ttft: median(runs.map((r) => r.ttft)),
          rate: median(runs.map(decodeRate)),
          throughput: median(xs.map((x) => x.throughput)),
          tokens: median(runs.map((r) => r.tokens)),
        };
      };
      const ds = stats(d);
      const ws = stats(w);
      // Per round, worker over direct: the machine's drift over the run cancels out within a round.
      const ratio = median(w.map((x, i) => x.throughput / d[i]!.throughput));
      const decodeRatio = median(w.map((x, i) => median(x.runs.map(decodeRate)) / median(d[i]!.runs.map(decodeRate))));
      const label = n === 1 ? "1 stream" : `${n} streams at once`;
      rows.push(
        `| ${label}, node-llama-cpp direct | ${fmt(ds.ttft)} | ${ds.rate.toFixed(0)} | ${ds.throughput.toFixed(0)} | ${ds.tokens} |`,
        `| ${label}, through the worker | ${fmt(ws.ttft)} | ${ws.rate.toFixed(0)} | ${ws.throughput.toFixed(0)} | ${ws.tokens} |`,
      );
      ratios.push(
        `- ${label}: the worker's throughput is **${(ratio * 100).toFixed(1)} %** of the direct figure ` +
          `(per-stream decode ${(decodeRatio * 100).toFixed(1)} %; medians of the per-round ratios); ` +
          `its time to first token is ${fmt(ws.ttft - ds.ttft)} ms more.`,
      );
    }
    return `## Local chat worker

Model \`${path.basename(MODEL)}\`, ${THREADS} thread(s), ${SLOTS} slots of ${CONTEXT} tokens, CPU; ${MAX_TOKENS} tokens per reply
(temperature 0.8, top-p 0.95, the same seeds both ways), ${ROUNDS} rounds after ${WARMUP} warm-up, alternating direct and worker.
"Direct" is node-llama-cpp's \`LlamaChat\` in the benchmark's own process; "through the worker" is a streamed
\`/v1/chat/completions\` over loopback to \`npm run worker\`.

| run | TTFT p50 (ms) | decode tok/s per stream (p50) | tok/s all streams (p50) | tokens per reply |
|---|---|---|---|---|
${rows.join("\n")}

${ratios.join("\n")}
`;
  } finally {
    await worker.stop();
    await direct.close();
  }
}
