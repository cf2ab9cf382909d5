import { readdirSync } from "node:fs";
import path from "node:path";

export type ModelChoice = { path: string } | { path?: undefined; reason: string };

/**
 * The model Parley's own worker runs: CHAT_WORKER_MODEL when set, else the one `.gguf` in the
 * models folder. Several files there is a choice Parley will not make for the operator.
 */
export function findLocalModel(modelPath: string | undefined, modelsDir: string): ModelChoice {
  if (modelPath) return { path: path.resolve(modelPath) };
  let files: string[];
  try {
    files = readdirSync(modelsDir).filter((f) => f.toLowerCase().endsWith(".gguf"));
  } catch {
    return { reason: `no CHAT_WORKER_MODEL and no ${modelsDir} folder` };
  }
  if (files.length === 1) return { path: path.join(modelsDir, files[0]!) };
  if (files.length === 0) return { reason: `no CHAT_WORKER_MODEL and no .gguf file in ${modelsDir}` };
  return { reason: `${files.length} .gguf files in ${modelsDir} (${files.join(", ")}): set CHAT_WORKER_MODEL to the one to run` };
}
