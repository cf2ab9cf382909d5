import type { SamplingParams } from "./types.js";

/** Sampling per task, from role-play practice: lively for characters, steadier for rewriting. */
export const TASK_PROFILES: Record<string, SamplingParams> = {
  roleplay: { temperature: 0.9, max_tokens: 400, top_p: 0.95 },
  enhance: { temperature: 0.5, max_tokens: 200, top_p: 0.9 },
};

export function profileFor(task: string): SamplingParams {
  return TASK_PROFILES[task] ?? TASK_PROFILES.roleplay!;
}
