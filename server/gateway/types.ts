import type { ModelRow, ProviderRow } from "../db/schema.js";

export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: string };

export type SamplingParams = { temperature: number; max_tokens: number; top_p: number };

export type ChatRequest = {
  task: string;
  /** A model key to try before the task's own candidates. */
  model?: string;
  messages: ChatMessage[];
  /** Aborted when the caller goes away; the upstream request is cancelled with it. */
  signal: AbortSignal;
};

/** What the gateway needs of a provider: the row, with deployment settings (env) applied. */
export type Provider = Pick<
  ProviderRow,
  "id" | "name" | "displayName" | "kind" | "baseUrl" | "authScheme" | "authHeaderName" | "secretName" | "isActive" | "extraHeaders"
>;
export type Model = Pick<
  ModelRow,
  | "id"
  | "modelKey"
  | "displayName"
  | "task"
  | "isActive"
  | "isDefault"
  | "priority"
  | "inputPricePerMtok"
  | "outputPricePerMtok"
  | "providerId"
>;
export type Candidate = { provider: Provider; model: Model };

export type Usage = { promptTokens: number; completionTokens: number; cost?: number };

export type StreamEvent =
  | { type: "delta"; text: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: string }
  /** An error reported by the provider after the stream began: no failover is possible any more. */
  | { type: "error"; message: string };

export type Attempt = { provider: string; model: string; status?: number; error?: string; ms: number };
