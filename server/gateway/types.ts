import type { ChatRole, RequestStatus } from "../../contracts/enums.js";
import type { TokenizerName } from "../../contracts/tokenizers.js";
import type { ModelRow, ProviderRow, SamplingParams } from "../db/schema.js";

export type { SamplingParams, ChatRole, RequestStatus };
export type ChatMessage = { role: ChatRole; content: string };

/** What a caller may set on top of the task profile (the `/v1` API passes its client's choices). */
export type RequestParams = Partial<SamplingParams> & { stop?: string[]; seed?: number };

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

export type ChatRequest = {
  /** The task whose models serve the request; a named model's own task when `model` is given. */
  task: string;
  /** A model key to try before the task's other candidates. */
  model?: string;
  messages: ChatMessage[];
  /**
   * Fits the prompt to each candidate's window (its context length less its max_tokens): a small
   * local model gets the newest turns it can hold, a large one more. Without it, `messages` go as they are.
   */
  fit?: (window: PromptWindow) => Promise<FittedPrompt>;
  params?: RequestParams;
  /** Aborted when the caller goes away; the upstream request is cancelled with it. */
  signal: AbortSignal;
  /** Who asked, for the request log. */
  meta?: { clientId?: string; sessionId?: string };
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
  | "tokenizer"
  | "inputPricePerMtok"
  | "outputPricePerMtok"
  | "paramOverrides"
  | "providerId"
>;
export type Candidate = { provider: Provider; model: Model };

export type Usage = { promptTokens: number; completionTokens: number; cost?: number };

export type StreamEvent =
  | { type: "delta"; text: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: string }
  /** An error after the stream began: no failover is possible any more. */
  | { type: "error"; message: string };

/** One try of one candidate: what it answered (an HTTP status, or an error) and how long it took. */
export type Attempt = { provider: string; model: string; status?: number; error?: string; ms: number };

/** The exact record of one request: written to `request_log`, returned to the caller. */
export type RequestRecord = {
  at: Date;
  clientId?: string;
  sessionId?: string;
  task: string;
  requestedModel?: string;
  provider?: string;
  model?: string;
  status: RequestStatus;
  attempts: Attempt[];
  ttftMs?: number;
  totalMs: number;
  /** The reply as received, for callers that store it. */
  text: string;
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
  /** True when the provider reported no usage and the counts are estimates. */
  tokensEstimated: boolean;
  cost: number | null;
  error?: string;
};
