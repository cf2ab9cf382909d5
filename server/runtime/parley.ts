import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { AdminAuth } from "../admin/auth.js";
import { FailedLogins } from "../admin/failed-logins.js";
import { clientIdSigningKey } from "../db/queries/admin-auth.js";
import { clearStaleClaims, purgeDeleted } from "../db/queries/sessions.js";
import { ClientIds } from "../middleware/client-id.js";
import { createApp } from "../app.js";
import { createEnhanceService } from "../chat/enhance.js";
import { createCharacterService } from "../chat/characters.js";
import { createLorebookService } from "../chat/lorebooks.js";
import { createPracticeService } from "../chat/practice.js";
import { createChatService } from "../chat/service.js";
import type { Config } from "../config.js";
import { DatabaseLifecycle } from "../db/lifecycle.js";
import { registerLocalWorker, writeSystemConfig } from "../db/queries/registry.js";
import { RegistrySync } from "./registry-sync.js";
import { createApiKeys } from "../api-keys/api-keys.js";
import { createMetrics } from "../metrics/metrics.js";
import { startTracing } from "../metrics/tracing.js";
import { DatabaseCounters, FallbackCounters } from "../api-keys/counters.js";
import { RequestLogWriter } from "./request-log-writer.js";
import { seedDefaults } from "../db/seed.js";
import { CircuitBreaker } from "../gateway/breaker.js";
import { createGateway } from "../gateway/gateway.js";
import { ProviderStatus } from "../gateway/provider-status.js";
import { Registry, SEEDED_WORKER } from "../gateway/registry.js";
import { WorkerHealth } from "../gateway/worker-health.js";
import { findLocalModel } from "../local-worker/find-model.js";
import { WorkerSupervisor, type WorkerReady } from "../local-worker/supervisor.js";
import type { Logger } from "../logger.js";
import { RateLimits } from "../ratelimit/rate-limits.js";
import { sharedRateStore } from "../ratelimit/stores.js";
import { errorFields } from "../error-report.js";

const DELETED_MESSAGES_KEPT_DAYS = 30;

export type Parley = {
  /** Where it listens, e.g. http://127.0.0.1:3000. */
  url: string;
  port: number;
  /**
   * Stops taking requests, drops open streams (their replies are stored as aborted), waits for
   * replies being stored (at most 5 s), stops the worker, flushes the request log and closes the database.
   */
  stop(): Promise<void>;
};

function adminTokenNotice(token: string): string {
  const line = "=".repeat(72);
  return [
    line,
    "Parley's admin token (shown this once; only its hash is stored):",
    "",
    `    ${token}`,
    "",
    "Log in at /admin with it. Lost it? Stop Parley and run `npm run admin:token`,",
    "or set ADMIN_TOKEN in the environment.",
    line,
    "",
  ].join("\n");
}

/**
 * The composition root: builds every part from the configuration, starts them in order and
 * listens. `main.ts` calls it with the environment's configuration; anything else (a test, the
 * bench) may start a Parley in its own process the same way.
 */
export async function startParley(config: Config, deps: { log: Logger; version: string }): Promise<Parley> {
  const { log, version } = deps;
  const registry = new Registry(
    { openrouterBaseUrl: config.openrouterBaseUrl, chatWorkerUrl: config.chatWorkerUrl },
    config.readSecret,
  );
  let database: DatabaseLifecycle;
  const requestLog = new RequestLogWriter(() => database.db, config.requestLogFlushMs, log);
  const workerHealth = new WorkerHealth({
    intervalMs: config.workerHealthIntervalMs,
    persist: async (cache) => {
      if (database.db) await writeSystemConfig(database.db, "workerHealthCache", cache);
    },
    onError: (err) => log.warn(errorFields(err), "saving the worker health cache failed"),
  });
  registry.onChange((workers) => workerHealth.setWorkers(workers));
  const tracing = config.otlpEndpoint
    ? await startTracing({ endpoint: config.otlpEndpoint, serviceName: "parley", version, instanceId: config.instanceId })
    : undefined;
  if (tracing) log.info({ endpoint: config.otlpEndpoint }, "OpenTelemetry traces on");
  // Read at scrape time: the gateway's circuits and the workers' health, a key's name by its id.
  const metrics = createMetrics({
    circuits: () => gateway.status().circuits,
    workers: () => workerHealth.snapshot(),
    keyName: (id) => apiKeys.keyName(id),
  });
  const gateway = createGateway({
    registry,
    breaker: new CircuitBreaker({ failureThreshold: config.breakerFailureThreshold, cooldownMs: config.breakerCooldownMs }),
    providerStatus: new ProviderStatus(),
    workerHealth,
    app: { url: config.appUrl, title: config.appTitle },
    timeouts: {
      connectMs: config.connectTimeoutMs,
      firstByteMs: config.firstByteTimeoutMs,
      idleMs: config.idleTimeoutMs,
      requestMs: config.requestTimeoutMs,
    },
    retryAfterMaxS: config.retryAfterMaxS,
    allowPrivateUpstreams: config.allowPrivateUpstreams,
    onRecord: (record) => {
      requestLog.push(record);
      // Counted at the event loop's next turn, once the answer has gone out: the labelled counters and
      // histograms (and a span) are not on the way to a client's last byte, and no scrape needs them sooner.
      setImmediate(() => {
        metrics.observe(record);
        tracing?.record(record);
      });
    },
    log,
  });
  const registrySync = new RegistrySync(registry, config.registryPollMs, log, config.instanceId);

  // Parley's own worker, when it has a model to run and no CHAT_WORKER_URL points elsewhere.
  let worker: WorkerSupervisor | undefined;
  let workerReady: WorkerReady | undefined;
  const registerWorker = async () => {
    if (!workerReady || !database.db) return;
    await registerLocalWorker(database.db, { baseUrl: workerReady.url, model: workerReady.model, contextSize: workerReady.contextSize }).catch(
      (err: unknown) => log.warn(errorFields(err), "registering the local chat worker failed"),
    );
  };
  if (config.localWorker) {
    const choice = findLocalModel(config.localWorker.modelPath, config.localWorker.modelsDir);
    if (choice.path === undefined) {
      log.info({ reason: choice.reason }, "no local chat worker");
    } else {
      worker = new WorkerSupervisor({
        modelPath: choice.path,
        env: config.localWorker.env,
        log,
        onReady: (ready) => {
          workerReady = ready;
          registry.setChatWorkerUrl(ready.url);
          // Registered first (its row carries its real context length, which prompts are fitted to), then
          // probed now rather than at the next interval: the worker takes traffic as soon as it can.
          void registerWorker().then(() => workerHealth.probeAll());
        },
        onDown: (reason) => workerHealth.report(SEEDED_WORKER, false, null, `the local worker stopped: ${reason}`),
      });
    }
  }

  const rateStore = await sharedRateStore(config);
  if (config.redisUrl && config.upstash) log.warn("REDIS_URL and UPSTASH_REDIS_REST_URL are both set; rate limits use REDIS_URL");
  const rateLimits = new RateLimits(rateStore, log);
  log.info(
    { store: rateLimits.status().store, perMinute: config.rateLimitPerMin, perAddressPerMinute: config.rateLimitPerAddressPerMin },
    "rate limits",
  );

  const adminAuth = new AdminAuth(config.adminToken, config.adminSessionMs);
  const clientIds = new ClientIds();

  database = new DatabaseLifecycle({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, log, async (handle, { reopened }) => {
    const { seeded } = await seedDefaults(handle.db);
    if (seeded) log.info("default scenarios, providers and models seeded");
    clientIds.setKey(await clientIdSigningKey(handle.db, ClientIds.newKey));
    const generated = await adminAuth.ensureToken(handle.db);
    // Printed once, to the console only (never to the log): its hash is all that is kept.
    if (generated) process.stdout.write(adminTokenNotice(generated));
    // What this instance was writing when it last stopped (a crash, kill -9) is released and marked, so no conversation stays locked.
    // Deleted messages and conversations are kept 30 days for an undo, then removed for good (the README says so).
    if (!reopened) {
      const purged = await purgeDeleted(handle.db, DELETED_MESSAGES_KEPT_DAYS);
      if (purged.messages + purged.sessions > 0) log.info(purged, "purged messages and conversations deleted more than 30 days ago");
    }
    // Not when the embedded engine is reopened in a running process: its claims are live replies waiting to be stored.
    const stale = reopened ? 0 : await clearStaleClaims(handle.db, config.instanceId, handle.kind === "pglite");
    if (stale > 0) log.warn({ sessions: stale }, "released conversations left claimed by a previous run; their unfinished replies are marked interrupted");
    await registerWorker();
    await registrySync.start(handle);
  });
  // Keys' per-minute counts are shared by every instance: in Redis when configured (the database while it fails), else in the database.
  const keyCounters = config.redisUrl
    ? new FallbackCounters(new (await import("../api-keys/redis-counters.js")).RedisCounters(config.redisUrl), new DatabaseCounters(database), log)
    : new DatabaseCounters(database);
  const apiKeys = createApiKeys({ database, counters: keyCounters, envKeys: config.apiKeys, log });
  registrySync.keyRing = apiKeys;
  // Buffered request-log rows are written before the connection closes.
  database.onClose.push(() => registrySync.stop(), () => requestLog.close());
  await database.start();
  // In the background: the first reply of a model whose tokenizer is not read yet would wait for it.
  void gateway.warmTokenizers().catch((err: unknown) => log.warn({ ...errorFields(err) }, "loading a tokenizer failed; prompts for its models are estimated"));
  requestLog.start();
  workerHealth.start();
  worker?.start();

  const chat = createChatService({
    database,
    gateway,
    log,
    maxMessageChars: config.maxMessageChars,
    instanceId: config.instanceId,
    replySaveIntervalMs: config.replySaveIntervalMs,
    // A reply the database would not take is retried for as long as a reply may take at all.
    replyRetryMs: config.requestTimeoutMs,
  });
  const enhance = createEnhanceService({ database, gateway, maxMessageChars: config.maxMessageChars });
  const app = createApp({
    database,
    chat,
    enhance,
    characters: createCharacterService({ database, log }),
    lorebooks: createLorebookService({ database }),
    practice: createPracticeService({ database, gateway, log }),
    gateway,
    registry,
    apiKeys,
    metrics,
    metricsToken: config.metricsToken,
    log,
    maxBodyBytes: config.maxBodyBytes,
    maxImportBytes: config.maxImportBytes,
    maxMessageChars: config.maxMessageChars,
    webDir: config.webDir,
    version,
    startedAt: Date.now(),
    adminAuth,
    adminSessionMs: config.adminSessionMs,
    reloadRegistry: () => registrySync.reloadEverywhere(),
    rateLimits,
    rateLimitPerMin: config.rateLimitPerMin,
    rateLimitPerAddressPerMin: config.rateLimitPerAddressPerMin,
    trustedProxies: config.trustedProxies,
    clientIds,
    failedLogins: new FailedLogins(rateLimits),
    appUrl: config.appUrl,
    secretNameProblem: config.secretNameProblem,
    allowPrivateUpstreams: config.allowPrivateUpstreams,
    instanceId: config.instanceId,
    localWorker: () => (worker ? { state: worker.state, model: workerReady?.model ?? null, restarts: worker.restarts } : null),
  });

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("listening", () => resolve((server.address() as AddressInfo).port));
    server.once("error", reject);
  });
  // After start-up a server error (none is expected) is logged rather than left to crash the process.
  server.on("error", (err) => log.error(errorFields(err), "server error"));
  const url = `http://${config.host}:${port}`;
  log.info({ port, host: config.host, url }, "listening");

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      server.close();
      // Open streams would hold close() forever: dropping them aborts their replies, which are then
      // stored as `aborted`. The database closes only once those writes are done.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      // A reply that cannot be stored (the database is gone) must not hold the rest of the shutdown:
      // the request log is flushed and the database closed within the caller's deadline.
      await Promise.race([chat.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await worker?.stop();
      await workerHealth.stop();
      await rateLimits.close();
      await keyCounters.close();
      // Spans still batched are sent before the process goes.
      await tracing?.shutdown().catch((err: unknown) => log.warn(errorFields(err), "sending the last traces failed"));
      await database.close().catch((err: unknown) => log.error(errorFields(err), "closing the database failed"));
    })());
  return { url, port, stop };
}
