import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * The worker's settings, the only place it reads process.env. The worker runs alone (`npm run worker`,
 * a GPU host) or as Parley's child process, which passes these variables through.
 * Each entry is in the README's configuration table (a test checks).
 */

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const int = (min: number, max: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).optional());

/** Formats node-llama-cpp can render a conversation in; used only for a model without its own template. */
export const FALLBACK_TEMPLATES = [
  "general",
  "chatML",
  "llama3.1",
  "llama3",
  "llama2Chat",
  "mistral",
  "gemma",
  "alpacaChat",
  "qwen",
  "deepSeek",
  "falconChat",
] as const;
export type FallbackTemplate = (typeof FALLBACK_TEMPLATES)[number];

export const GPU_CHOICES = ["false", "auto", "cuda", "vulkan", "metal"] as const;

const workerEnvSchema = z.object({
  CHAT_WORKER_MODEL: z.preprocess(emptyToUndefined, z.string().optional()),
  CHAT_WORKER_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(8090)),
  CHAT_WORKER_HOST: z.preprocess(emptyToUndefined, z.string().default("127.0.0.1")),
  CHAT_WORKER_THREADS: int(1, 256),
  CHAT_WORKER_CONTEXT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(64).max(1_048_576).default(2048)),
  CHAT_WORKER_SLOTS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(64).default(2)),
  CHAT_WORKER_QUEUE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(10_000).default(16)),
  CHAT_WORKER_GPU: z.preprocess(
    emptyToUndefined,
    z.enum(GPU_CHOICES, { error: `must be one of ${GPU_CHOICES.join(", ")}` }).default("false"),
  ),
  CHAT_WORKER_FALLBACK_TEMPLATE: z.preprocess(
    emptyToUndefined,
    z.enum(FALLBACK_TEMPLATES, { error: `must be one of ${FALLBACK_TEMPLATES.join(", ")}` }).default("general"),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
});

/** Every variable the worker reads (LOG_LEVEL is shared with the server). */
export const WORKER_ENV_VARIABLES = Object.keys(workerEnvSchema.shape);

export type WorkerConfig = {
  /** Absolute path of the GGUF file; undefined when none was given. */
  modelPath: string | undefined;
  port: number;
  host: string;
  threads: number;
  contextSize: number;
  slots: number;
  /** Requests that may wait for a free slot; one more is refused with 503 and Retry-After. */
  queueSize: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  fallbackTemplate: FallbackTemplate;
  logLevel: z.infer<typeof workerEnvSchema>["LOG_LEVEL"];
};

export class WorkerConfigError extends Error {}

/** One core is left to the server and the OS; on 2 cores one thread also ran fastest (more thrash). */
export const defaultThreads = () => Math.max(1, os.availableParallelism() - 1);

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new WorkerConfigError(`Invalid chat worker configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    modelPath: e.CHAT_WORKER_MODEL ? path.resolve(e.CHAT_WORKER_MODEL) : undefined,
    port: e.CHAT_WORKER_PORT,
    host: e.CHAT_WORKER_HOST,
    threads: e.CHAT_WORKER_THREADS ?? defaultThreads(),
    contextSize: e.CHAT_WORKER_CONTEXT,
    slots: e.CHAT_WORKER_SLOTS,
    queueSize: e.CHAT_WORKER_QUEUE,
    gpu: e.CHAT_WORKER_GPU === "false" ? false : e.CHAT_WORKER_GPU,
    fallbackTemplate: e.CHAT_WORKER_FALLBACK_TEMPLATE,
    logLevel: e.LOG_LEVEL,
  };
}
