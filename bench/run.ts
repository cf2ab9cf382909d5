/**
 * `npm run bench`: what Parley adds to a streamed reply (chat route and /v1 over a scripted upstream),
 * and what the local chat worker adds to node-llama-cpp. Loopback only, bounded in rounds.
 * what a long conversation costs, and what a rate-limit decision costs. BENCH_ONLY=chat|gateway|long|worker|ratelimit runs one section
 * (RESULTS.md is then left alone).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { benchChat } from "./chat.js";
import { benchGateway } from "./gateway.js";
import { benchLongSession } from "./long-session.js";
import { benchRateLimit } from "./ratelimit.js";
import { benchWorker } from "./worker.js";
import { buildEntries } from "../tests/support/parley.js";

const only = process.env.BENCH_ONLY;
// Parley and the worker are measured as `npm start` runs them: the built bundles, no TypeScript loader.
await buildEntries();
const sections: string[] = [];
if (!only || only === "chat") sections.push(await benchChat());
if (!only || only === "gateway") sections.push(await benchGateway());
if (!only || only === "long") sections.push(await benchLongSession());
if (!only || only === "ratelimit") sections.push(await benchRateLimit());
if (!only || only === "worker") sections.push(await benchWorker());

const report = `# Benchmarks

Run with \`npm run bench\`. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

${sections.join("\n")}`;
console.log(report);
if (!only && process.env.BENCH_WRITE !== "0") writeFileSync(new URL("./RESULTS.md", import.meta.url), report);
