/**
 * `npm run model:pull -- <name>`: downloads a recommended small instruct model into ./models/, where
 * `npm start` finds it. On a machine without internet it fails at once and says so.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export const RECOMMENDED = {
  "smollm2-360m": {
    repo: "bartowski/SmolLM2-360M-Instruct-GGUF",
    file: "SmolLM2-360M-Instruct-Q8_0.gguf",
    size: "0.4 GB",
    note: "smallest; quick on any CPU, simple replies",
  },
  "qwen2.5-0.5b": {
    repo: "bartowski/Qwen2.5-0.5B-Instruct-GGUF",
    file: "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
    size: "0.4 GB",
    note: "small and fast; the default choice for a CPU",
  },
  "qwen2.5-1.5b": {
    repo: "bartowski/Qwen2.5-1.5B-Instruct-GGUF",
    file: "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf",
    size: "1.0 GB",
    note: "better role-play; still usable on 4+ cores",
  },
  "llama3.2-3b": {
    repo: "bartowski/Llama-3.2-3B-Instruct-GGUF",
    file: "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    size: "2.0 GB",
    note: "best of these; wants a GPU or a fast CPU",
  },
} as const;

type Name = keyof typeof RECOMMENDED;

function usage(): string {
  const rows = Object.entries(RECOMMENDED).map(([n, m]) => `  ${n.padEnd(14)} ${m.size.padEnd(7)} ${m.note}`);
  return `usage: npm run model:pull -- <name>\n\nRecommended models:\n${rows.join("\n")}`;
}

function fail(message: string): never {
  console.error(`model:pull: ${message}`);
  process.exit(1);
}

const name = process.argv[2];
if (!name || name === "--help") {
  console.log(usage());
  process.exit(name ? 0 : 1);
}
if (!Object.hasOwn(RECOMMENDED, name)) fail(`unknown model "${name}"\n\n${usage()}`);
const model = RECOMMENDED[name as Name];
const hub = (process.env.PARLEY_MODEL_HUB_URL ?? "https://huggingface.co").replace(/\/+$/, "");
const dir = path.resolve(process.env.PARLEY_MODELS_DIR ?? "models");
const target = path.join(dir, model.file);
if (existsSync(target)) {
  console.log(`${target} is already here`);
  process.exit(0);
}

const url = `${hub}/${model.repo}/resolve/main/${model.file}`;
// Only the wait for an answer is bounded: a closed network fails fast, a slow download may take its time.
const connect = new AbortController();
const timer = setTimeout(() => connect.abort(), 15_000);
let res: Response;
try {
  res = await fetch(url, { signal: connect.signal, redirect: "follow" });
} catch (err) {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
  fail(`cannot reach ${hub} (${cause}). This machine seems to have no internet access: download ${model.file} from ${url} elsewhere and put it in ${dir}/`);
} finally {
  clearTimeout(timer);
}
if (!res.ok || !res.body) fail(`${url} answered ${res.status}`);

mkdirSync(dir, { recursive: true });
const part = `${target}.part`;
const total = Number(res.headers.get("content-length") ?? 0);
let received = 0;
let lastReport = 0;
const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
body.on("data", (chunk: Buffer) => {
  received += chunk.length;
  if (total && Date.now() - lastReport > 1000) {
    lastReport = Date.now();
    process.stdout.write(`\r${model.file}: ${((received / total) * 100).toFixed(0)} % of ${(total / 1e9).toFixed(2)} GB`);
  }
});
try {
  await pipeline(body, createWriteStream(part));
} catch (err) {
  rmSync(part, { force: true });
  fail(`the download of ${model.file} failed: ${(err as Error).message}`);
}
const handle = await open(part, "r");
const magic = Buffer.alloc(4);
await handle.read(magic, 0, 4, 0);
await handle.close();
if (magic.toString("ascii") !== "GGUF") {
  rmSync(part, { force: true });
  fail(`${url} did not return a GGUF file`);
}
renameSync(part, target);
console.log(`\nsaved ${target}; \`npm start\` runs it when it is the only .gguf in ${dir}/ (or set CHAT_WORKER_MODEL=${target})`);
