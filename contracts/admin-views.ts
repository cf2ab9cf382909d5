/**
 * What the admin API answers, as the dashboard reads it. The rows an admin edits are the admin
 * schemas' inputs with what the database adds (ids, times) and what the gateway knows of them.
 */
import type { ModelInput, ProviderInput, ScenarioInput } from "./admin-schemas.js";
import type { CardV3 } from "./character-card.js";
import type { CircuitState, ProviderKind, RequestStatus, UsageWindow } from "./enums.js";
import type { Attempt, ProbeResult, ProviderHealth, RateLimitStatus, UpstreamModel, WorkerHealthEntry } from "./gateway-status.js";

export type { CircuitState, ProbeResult, ProviderHealth, UpstreamModel, WorkerHealthEntry };

type Stored = { id: string; createdAt: Date; updatedAt: Date };

export type ProviderRecord = ProviderInput & Stored;
export type ProviderView = ProviderRecord & {
  /** Where requests really go: OPENROUTER_BASE_URL and the local worker's address apply over the row. */
  effectiveBaseUrl: string;
  /** Whether the environment variable the row names is set; null when the provider needs no key. */
  secretPresent: boolean | null;
  models: { id: string; modelKey: string; task: string }[];
  health: ProviderHealth | null;
};

export type ModelRecord = ModelInput & Stored & { modality: string };
export type ModelView = ModelRecord & {
  provider: Pick<ProviderRecord, "id" | "name" | "displayName" | "kind"> | null;
  /** Why requests pass this model by, from configuration alone; null when it can serve. */
  skipReason: string | null;
  circuit: CircuitState;
};

export type ModelGroups = { tasks: string[]; groups: { task: string; models: ModelView[] }[] };

/** A scenario as the admin edits it; a row written before a style was retired keeps its word. */
export type ScenarioRecord = Omit<ScenarioInput, "avatarStyle"> &
  Stored & {
    avatarStyle: string;
    /** A person's own character (imported by them); null for the gallery's. */
    ownerClientId: string | null;
    /** The character card it came from, whole (V3), if any. */
    card: CardV3 | null;
    cardHash: string | null;
  };
export type ScenarioView = ScenarioRecord & {
  sessions: number;
  /** Over each conversation's latest debrief: the average score and the objective most often not fully met. */
  practice?: { averageScore: number; attempts: number; mostMissed: { objective: string; missed: number } | null };
};
export type ScenarioList = { tasks: string[]; modelKeys: string[]; scenarios: ScenarioView[] };

export type LocalWorkerView = { state: string; model: string | null; restarts: number };

export type HealthView = {
  at: string;
  /** The instance that answered; `instances` lists every one on this database. */
  instance: string;
  instances: { id: string; registryVersion: number; startedAt: Date; seenAt: Date }[];
  rateLimit: RateLimitStatus;
  database: string;
  registryVersion: number;
  localWorker: LocalWorkerView | null;
  workerHealth: {
    /** This instance's memory, probe by probe. */
    instance: Record<string, WorkerHealthEntry>;
    /** The copy in system_config that every instance shares. */
    shared: Record<string, WorkerHealthEntry> | null;
    sharedAt: Date | null;
  };
  providers: { id: string; name: string; displayName: string; kind: ProviderKind; health: ProviderHealth | undefined }[];
  circuits: {
    modelId: string;
    provider: string | null;
    model: string;
    task: string;
    isActive: boolean;
    state: CircuitState;
    failures: number;
    lastError: string | null;
    openedAt: string | null;
  }[];
};

export type UsageMeasures = { requests: number; promptTokens: number; completionTokens: number; cost: number; errors: number; fallbacks: number };

export type UsageView = {
  window: UsageWindow;
  since: string;
  bucketSeconds: number;
  totals: UsageMeasures;
  byModel: (UsageMeasures & { provider: string | null; model: string | null })[];
  byProvider: (UsageMeasures & { provider: string | null })[];
  /** Role-play, enhance, coach, evaluate, and /v1's own: what each kind of work costs. */
  byTask: (UsageMeasures & { task: string | null })[];
  /** Requests that came with a Parley API key of the Keys tab, by key (its name, never its secret). */
  byKey: (UsageMeasures & { apiKeyId: string; name: string })[];
  series: { at: string; requests: number; cost: number; errors: number; fallbacks: number; tokens: number }[];
};

/** One routed request as the log keeps it, without the client id (the browser's session credential). */
export type RequestView = {
  id: number;
  createdAt: Date;
  sessionId: string | null;
  task: string | null;
  requestedModel: string | null;
  provider: string | null;
  model: string | null;
  status: RequestStatus;
  attempts: Attempt[];
  ttftMs: number | null;
  totalMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  tokensEstimated: boolean;
  cost: number | null;
  error: string | null;
  /** The Parley API key it came with (a row's id), and that key's name: never its secret. */
  apiKeyId: string | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  generationId: string | null;
  apiKeyName?: string | null;
};
export type RequestPage = { requests: RequestView[]; next: number | null };
