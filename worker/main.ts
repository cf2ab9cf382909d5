import { serve } from "@hono/node-server";
import { pino } from "pino";
import { createWorkerApp, type WorkerState } from "./app.js";
import { loadWorkerConfig, WorkerConfigError, type WorkerConfig } from "./config.js";
import { Engine } from "./engine.js";
import { checkModelFile, ModelFileError } from "./model-file.js";
import { SlotPool } from "./slots.js";

/**
 * The local chat worker: `npm run worker`, or started by Parley as a child process. It listens at
 * once (health says "not yet" while the model loads) and exits with a one-line message when the
 * model file cannot be used.
 */
function fail(message: string): never {
  console.error(`chat worker: ${message}`);
  process.exit(1);
}

let config: WorkerConfig;
try {
  config = loadWorkerConfig();
} catch (err) {
  if (err instanceof WorkerConfigError) fail(err.message);
  throw err;
}
const log = pino({ level: config.logLevel, base: { service: "parley-worker" }, redact: { paths: ["*.content"], censor: "[redacted]" } });

let modelPath: string;
try {
  modelPath = await checkModelFile(config.modelPath);
} catch (err) {
  if (err instanceof ModelFileError) fail(err.message);
  throw err;
}

const state: WorkerState = { startedAt: Date.now() };
const app = createWorkerApp(state, log);
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  log.info({ port: info.port, host: config.host, url: `http://${config.host}:${info.port}/v1` }, "listening");
});
server.on("error", (err) => fail(`cannot listen on ${config.host}:${config.port}: ${err.message}`));

const loadStarted = performance.now();
let engine: Engine;
try {
  engine = await Engine.load(config, modelPath, log);
} catch (err) {
  fail(`cannot load model file ${modelPath}: ${String((err as Error).message).split("\n")[0]}`);
}
state.engine = engine;
state.pool = new SlotPool(engine.slots, config.queueSize);
log.info(
  {
    model: engine.modelId,
    contextSize: engine.contextSize,
    slots: config.slots,
    threads: config.threads,
    gpu: config.gpu,
    template: engine.template,
    loadMs: Math.round(performance.now() - loadStarted),
  },
  "model loaded",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  setTimeout(() => process.exit(1), 5000).unref();
  server.close();
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  await engine.close().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// Started by Parley: if Parley dies without stopping us, the pipe closes and we leave too.
if (process.send) process.on("disconnect", () => void shutdown("parent gone"));
