import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";
import { createChatService } from "./chat/service.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { DatabaseLifecycle } from "./db/lifecycle.js";
import { loadRegistryRows } from "./db/queries/registry.js";
import { seedDefaults } from "./db/seed.js";
import { createGateway } from "./gateway/gateway.js";
import { Registry } from "./gateway/registry.js";
import { createLogger } from "./logger.js";

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

const config = readConfig();
const log = createLogger(config.logLevel);
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

const registry = new Registry(
  { openrouterBaseUrl: config.openrouterBaseUrl, chatWorkerUrl: config.chatWorkerUrl },
  config.readSecret,
);
const gateway = createGateway({
  registry,
  app: { url: config.appUrl, title: config.appTitle },
  firstByteTimeoutMs: config.firstByteTimeoutMs,
  idleTimeoutMs: config.idleTimeoutMs,
});

const database = new DatabaseLifecycle({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, log, async (db) => {
  const { seeded } = await seedDefaults(db);
  if (seeded) log.info("default scenarios, providers and models seeded");
  const rows = await loadRegistryRows(db);
  registry.replace(rows.providers, rows.models);
});
await database.start();

const chat = createChatService({ database, gateway, log, maxMessageChars: config.maxMessageChars });
const app = createApp({
  database,
  chat,
  log,
  maxBodyBytes: config.maxBodyBytes,
  maxMessageChars: config.maxMessageChars,
  webDir: config.webDir,
  version,
  startedAt: Date.now(),
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  log.info({ port: info.port, host: config.host, url: `http://${config.host}:${info.port}` }, "listening");
});
server.on("error", (err) => {
  log.fatal({ err: err.message }, "server failed to start");
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  const forced = setTimeout(() => process.exit(1), 10_000);
  forced.unref();
  server.close();
  // Open streams would hold close() forever: dropping them aborts their replies, which are then
  // stored as `aborted`. The database closes only once those writes are done.
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  await chat.idle();
  await database.close().catch((err) => log.error({ err: (err as Error).message }, "closing the database failed"));
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
