import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { loadWorkerConfig, WORKER_ENV_VARIABLES, WorkerConfigError } from "../worker/config.js";

/**
 * The only module that reads process.env. Everything else receives a Config.
 * Each entry documents itself in the README's configuration table; keep them in step.
 */

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/ }).optional());
const int = (def: number, min: number, max: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));

const envSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.preprocess(emptyToUndefined, z.string().default("127.0.0.1")),
  PARLEY_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./data")),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
  ),
  OPENROUTER_API_KEY: optionalString,
  OPENROUTER_BASE_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/ }).default("https://openrouter.ai/api/v1")),
  CHAT_WORKER_URL: optionalUrl,
  PARLEY_MODELS_DIR: z.preprocess(emptyToUndefined, z.string().default("./models")),
  PARLEY_APP_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:3000")),
  PARLEY_APP_TITLE: z.preprocess(emptyToUndefined, z.string().default("Parley")),
  MAX_MESSAGE_CHARS: int(8000, 1, 200_000),
  MAX_BODY_BYTES: int(65_536, 1024, 10_485_760),
  MAX_IMPORT_BYTES: int(20_971_520, 1024, 209_715_200),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: int(30_000, 100, 600_000),
  UPSTREAM_IDLE_TIMEOUT_MS: int(60_000, 100, 600_000),
  UPSTREAM_CONNECT_TIMEOUT_MS: int(10_000, 100, 120_000),
  REQUEST_TIMEOUT_MS: int(120_000, 1000, 3_600_000),
  RETRY_AFTER_MAX_S: int(10, 0, 600),
  BREAKER_FAILURE_THRESHOLD: int(3, 1, 1000),
  BREAKER_COOLDOWN_MS: int(10_000, 100, 3_600_000),
  WORKER_HEALTH_INTERVAL_MS: int(5000, 100, 600_000),
  REGISTRY_POLL_MS: int(5000, 100, 600_000),
  REQUEST_LOG_FLUSH_MS: int(1000, 10, 60_000),
  REPLY_SAVE_INTERVAL_MS: int(2000, 100, 60_000),
  PARLEY_API_KEYS: optionalString,
  PROVIDER_SECRET_NAMES: optionalString,
  ALLOW_PRIVATE_UPSTREAMS: z.preprocess(emptyToUndefined, z.enum(["true", "false"], "must be true or false").default("false")),
  ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, "must be at least 16 characters").optional()),
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, "must be at least 16 characters").optional()),
  ADMIN_SESSION_HOURS: int(12, 1, 24 * 30),
  RATE_LIMIT_PER_MIN: int(20, 1, 1_000_000),
  RATE_LIMIT_PER_ADDRESS_PER_MIN: int(120, 1, 10_000_000),
  TRUST_PROXY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(true|false|\d{1,2})$/i, "must be true, false or the number of proxies in front of Parley")
      .default("false"),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional()),
  REDIS_URL: z.preprocess(emptyToUndefined, z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional()),
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalString,
  PARLEY_INSTANCE_ID: z.preprocess(emptyToUndefined, z.string().max(100).optional()),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  PARLEY_WEB_DIR: optionalString,
});

export type Env = z.infer<typeof envSchema>;

const OWN_SETTINGS = new Set<string>([...Object.keys(envSchema.shape), ...WORKER_ENV_VARIABLES, "METRICS_TOKEN"]);

/** Every variable Parley reads, its worker's included; the README's table must list each (a test checks). */
export const ENV_VARIABLES = [...new Set([...Object.keys(envSchema.shape), ...WORKER_ENV_VARIABLES])];

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  openrouterBaseUrl: string;
  chatWorkerUrl: string | undefined;
  /**
   * The worker Parley runs itself when no CHAT_WORKER_URL names one elsewhere: the model given by
   * CHAT_WORKER_MODEL (else found in `modelsDir`), and the worker's own settings to pass on.
   */
  localWorker: { modelPath: string | undefined; modelsDir: string; env: Record<string, string> } | undefined;
  appUrl: string;
  appTitle: string;
  maxMessageChars: number;
  maxBodyBytes: number;
  /** The largest chat file an import takes: a whole story, far more than one message. */
  maxImportBytes: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retryAfterMaxS: number;
  breakerFailureThreshold: number;
  breakerCooldownMs: number;
  workerHealthIntervalMs: number;
  registryPollMs: number;
  requestLogFlushMs: number;
  /** How often a streaming reply's text so far is saved: a crash loses at most this much of it. */
  replySaveIntervalMs: number;
  /** Keys accepted on the OpenAI-compatible API; empty means `/v1` refuses every request. */
  apiKeys: string[];
  /** The admin secret when set in the environment; otherwise one is generated and only its hash stored. */
  adminToken: string | undefined;
  /** Bearer token for GET /metrics; unset, /metrics is off. */
  metricsToken: string | undefined;
  adminSessionMs: number;
  /** Requests per client per minute on the routes that call a model. */
  rateLimitPerMin: number;
  /** Requests per network address per minute on the browser routes that call a model, whatever the cookie. */
  rateLimitPerAddressPerMin: number;
  /** How many proxies in front of Parley append to X-Forwarded-For (0: the header is ignored). */
  trustedProxies: number;
  redisUrl: string | undefined;
  /** Where OpenTelemetry traces go (OTLP over HTTP); unset, none are made. */
  otlpEndpoint: string | undefined;
  upstash: { url: string; token: string } | undefined;
  /** Names this process in /api/health and the logs, so instances behind a load balancer can be told apart. */
  instanceId: string;
  logLevel: Env["LOG_LEVEL"];
  webDir: string;
  /** Looks up a secret by the environment variable a provider names; never stored anywhere. Refuses names not allowed. */
  readSecret: (name: string) => string | undefined;
  /** Why a provider may not name this variable for its key (undefined: it may). */
  secretNameProblem: (name: string) => string | undefined;
  /** Admin-configured providers may reach private, link-local and loopback addresses. */
  allowPrivateUpstreams: boolean;
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  try {
    // Checked here too, so a bad worker setting stops Parley's start instead of its child's.
    loadWorkerConfig(env);
  } catch (err) {
    if (err instanceof WorkerConfigError) throw new ConfigError(err.message);
    throw err;
  }
  if (Boolean(e.UPSTASH_REDIS_REST_URL) !== Boolean(e.UPSTASH_REDIS_REST_TOKEN)) {
    throw new ConfigError("Invalid configuration:\n  UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together: set both or neither");
  }
  const trust = e.TRUST_PROXY.toLowerCase();
  const extraSecretNames = new Set((e.PROVIDER_SECRET_NAMES ?? "").split(",").map((n) => n.trim()).filter(Boolean));
  /**
   * A provider row names the variable holding its key, and Parley sends that variable's value to
   * the provider's URL: so only key-shaped names (…_API_KEY, …_TOKEN, or PROVIDER_SECRET_NAMES)
   * may be named, and never one of Parley's own settings (ADMIN_TOKEN, DATABASE_URL…), provider keys aside.
   */
  const secretNameProblem = (name: string): string | undefined => {
    if (extraSecretNames.has(name)) return undefined;
    if (OWN_SETTINGS.has(name) && !name.endsWith("_API_KEY")) return `${name} is one of Parley's own settings, not a provider key`;
    if (!/_(API_KEY|TOKEN)$/.test(name)) return "A provider key's variable must end in _API_KEY or _TOKEN (or be listed in PROVIDER_SECRET_NAMES)";
    return undefined;
  };
  const secrets = new Map<string, string | undefined>();
  const workerEnv = Object.fromEntries(
    Object.entries(env).filter((kv): kv is [string, string] => kv[0].startsWith("CHAT_WORKER_") && typeof kv[1] === "string" && kv[1].trim() !== ""),
  );
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.PARLEY_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    openrouterBaseUrl: e.OPENROUTER_BASE_URL.replace(/\/+$/, ""),
    chatWorkerUrl: e.CHAT_WORKER_URL?.replace(/\/+$/, ""),
    localWorker: e.CHAT_WORKER_URL
      ? undefined
      : { modelPath: workerEnv.CHAT_WORKER_MODEL, modelsDir: path.resolve(e.PARLEY_MODELS_DIR), env: workerEnv },
    appUrl: e.PARLEY_APP_URL,
    appTitle: e.PARLEY_APP_TITLE,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxImportBytes: e.MAX_IMPORT_BYTES,
    firstByteTimeoutMs: e.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
    idleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT_MS,
    connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    retryAfterMaxS: e.RETRY_AFTER_MAX_S,
    breakerFailureThreshold: e.BREAKER_FAILURE_THRESHOLD,
    breakerCooldownMs: e.BREAKER_COOLDOWN_MS,
    workerHealthIntervalMs: e.WORKER_HEALTH_INTERVAL_MS,
    registryPollMs: e.REGISTRY_POLL_MS,
    requestLogFlushMs: e.REQUEST_LOG_FLUSH_MS,
    replySaveIntervalMs: e.REPLY_SAVE_INTERVAL_MS,
    apiKeys: (e.PARLEY_API_KEYS ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
    adminToken: e.ADMIN_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    adminSessionMs: e.ADMIN_SESSION_HOURS * 3_600_000,
    rateLimitPerMin: e.RATE_LIMIT_PER_MIN,
    rateLimitPerAddressPerMin: e.RATE_LIMIT_PER_ADDRESS_PER_MIN,
    trustedProxies: trust === "true" ? 1 : trust === "false" ? 0 : Number(trust),
    redisUrl: e.REDIS_URL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    upstash: e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN } : undefined,
    instanceId: e.PARLEY_INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    logLevel: e.LOG_LEVEL,
    webDir: path.resolve(e.PARLEY_WEB_DIR ?? "dist/web"),
    // Looked up once a name: routing asks on every request, and the environment is fixed at start.
    readSecret: (name) => {
      if (secrets.has(name)) return secrets.get(name);
      const v = secretNameProblem(name) ? undefined : env[name];
      const value = v && v.trim() !== "" ? v : undefined;
      if (secrets.size < 1000) secrets.set(name, value);
      return value;
    },
    secretNameProblem,
    allowPrivateUpstreams: e.ALLOW_PRIVATE_UPSTREAMS === "true",
  };
}
