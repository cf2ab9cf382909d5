import type { UsageWindow } from "../../contracts/enums.js";
/**
 * What the admin API answers, as types the dashboard imports (type-only). Like ../views.ts, this
 * module may import only types that need no Node: the routes annotate their answers with these.
 */
import type { ModelRow, ProviderRow, RequestLogRow, ScenarioRow } from "../db/schema.js";
import type { CircuitState, ProbeResult, ProviderHealth, UpstreamModel, WorkerHealthEntry } from "../gateway/status-types.js";
import type { RateLimitStatus } from "../ratelimit/types.js";

export type { CircuitState, ProbeResult, ProviderHealth, UpstreamModel, WorkerHealthEntry };

export type ProviderView = ProviderRow & {
  /** Where requests really go: OPENROUTER_BASE_URL and the local worker's address apply over the row. */
  effectiveBaseUrl: string;
  /** Whether the environment variable the row names is set; null when the provider needs no key. */
  secretPresent: boolean | null;
  models: { id: string; modelKey: string; task: string }[];
  health: ProviderHealth | null;
};

export type ModelView = ModelRow & {
  provider: Pick<ProviderRow, "id" | "name" | "displayName" | "kind"> | null;
  /** Why requests pass this model by, from configuration alone; null when it can serve. */
  skipReason: string | null;
  circuit: CircuitState;
};

export type ModelGroups = { tasks: string[]; groups: { task: string; models: ModelView[] }[] };

export type ScenarioView = ScenarioRow & { sessions: number };
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
  providers: { id: string; name: string; displayName: string; kind: ProviderRow["kind"]; health: ProviderHealth | undefined }[];
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
  series: { at: string; requests: number; cost: number; errors: number; fallbacks: number; tokens: number }[];
};

/** A request_log row without the client id, which is the browser's session credential. */
export type RequestView = Omit<RequestLogRow, "clientId" | "attempts"> & {
  attempts: { provider: string; model: string; status?: number; error?: string; ms: number }[];
};
export type RequestPage = { requests: RequestView[]; next: number | null };
