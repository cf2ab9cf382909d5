import type { ChatRole, RequestStatus } from "../../contracts/enums.js";
import type { TokenizerName } from "../../contracts/tokenizers.js";
import type { ChatMessage, CompletionOutcome, RequestNeeds, RequestParams, SamplingParams, ToolCallDelta } from "../../contracts/openai.js";
import type { Attempt } from "../../contracts/gateway-status.js";
import type { ModelRow, ProviderRow } from "../db/schema.js";

export type { Attempt, ChatMessage, ChatRole, RequestParams, RequestStatus, SamplingParams };

/**
 * What a model can take: its context length and the tokens its reply may use, and how its tokens
 * are counted (`count` runs that tokenizer: a package in process, or the local worker).
 */
export type PromptWindow = {
  contextLength: number;
  maxTokens: number | undefined;
  tokenizer: TokenizerName;
  count: (texts: string[]) => Promise<number[]>;
};
/** A prompt fitted to a window, or why none fits: the newest message alone is already too long. */
export type FittedPrompt = { messages: ChatMessage[] } | { tooLong: { budgetTokens: number; neededTokens: number } };

/**
 * What the gateway reads of a caller going away: an AbortSignal is one, and so is a client's
 * connection closing early (routes/node-io.ts), which costs a /v1 request no AbortController.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export type ChatRequest = (
  | { messages: ChatMessage[]; fit?: undefined }
  | {
      messages?: undefined;
      /**
       * Fits the prompt to each candidate's window (its context length less its max_tokens): a small
       * local model gets the newest turns it can hold, a large one more. A long story's whole
       * history is never assembled only to be fitted.
       */
      fit: (window: PromptWindow) => Promise<FittedPrompt>;
    }
) & {
  /** The task whose models serve the request; a named model's own task when `model` is given. */
  task: string;
  /** A model key to try before the task's other candidates. */
  model?: string;
  params?: RequestParams;
  /** Aborted when the caller goes away; the upstream request is cancelled with it. */
  signal: Cancellation;
  /** Who asked, for the request log. */
  meta?: { clientId?: string; sessionId?: string; apiKeyId?: string };
  /** The messages as the client wrote them (parts, tool calls, tool answers), sent as they are when nothing is fitted. */
  rawMessages?: readonly unknown[];
  /** What the request asks that not every model takes: candidates that cannot are passed over. */
  needs?: RequestNeeds;
  /** Only these model keys may answer (a Parley API key's allowed models); unset or empty: any. */
  allowModels?: readonly string[];
};

/** What the gateway needs of a provider: the row, with deployment settings (env) applied. */
export type Provider = Pick<
  ProviderRow,
  | "id"
  | "name"
  | "displayName"
  | "kind"
  | "baseUrl"
  | "authScheme"
  | "authHeaderName"
  | "secretName"
  | "isActive"
  | "extraHeaders"
  | "routingPreferences"
  | "failoverRules"
  | "connectTimeoutMs"
  | "firstByteTimeoutMs"
  | "idleTimeoutMs"
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
  | "contextLength"
  | "acceptsImages"
  | "weight"
  | "tokenizer"
  | "inputPricePerMtok"
  | "outputPricePerMtok"
  | "paramOverrides"
  | "providerId"
>;
export type Candidate = { provider: Provider; model: Model };

export type Usage = {
  promptTokens: number;
  completionTokens: number;
  cost?: number;
  /** Prompt tokens read from the provider's cache, and written to it (Anthropic's prompt caching through OpenRouter). */
  cachedTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  /** The provider's id of the generation (OpenRouter's, to look it up there). */
  generationId?: string;
};

export type StreamEvent =
  | { type: "delta"; text: string }
  /** Pieces of the model's calls of the client's tools, as they stream. */
  | { type: "tool_calls"; calls: ToolCallDelta[] }
  /** A reasoning model's thinking, apart from the reply. */
  | { type: "reasoning"; text: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: string }
  /** An error after the stream began: no failover is possible any more. */
  | { type: "error"; message: string };


/** The exact record of one request: written to `request_log`, returned to the caller. */
export type RequestRecord = CompletionOutcome & {
  at: Date;
  clientId?: string;
  sessionId?: string;
  /** The Parley API key (a row's id) the request came with. */
  apiKeyId?: string;
  task: string;
  requestedModel?: string;
  provider?: string;
  model?: string;
  attempts: Attempt[];
  ttftMs?: number;
  totalMs: number;
  /** True when the provider reported no usage and the counts are estimates. */
  tokensEstimated: boolean;
  error?: string;
  generationId?: string;
};
