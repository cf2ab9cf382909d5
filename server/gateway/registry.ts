import type { TaskProfileRow } from "../db/schema.js";
import { adapterFor, SEEDED_WORKER, type DeploymentSettings } from "./providers/index.js";
import type { Candidate, Model, Provider, RequestParams, SamplingParams } from "./types.js";
import { merge } from "../merge.js";

export { SEEDED_WORKER };

/**
 * The window assumed for a model whose row does not give its context length: small enough for
 * nearly any chat model, so a long conversation is trimmed rather than refused. An admin sets the
 * real one on the model (Browse /models fills it in).
 */
export const UNKNOWN_CONTEXT_TOKENS = 8192;

export type SkipReason = "provider_inactive" | "model_inactive" | "missing_secret" | "worker_not_configured";

export type TaskProfile = Pick<TaskProfileRow, "task" | "temperature" | "maxTokens" | "topP">;

const FALLBACK_PROFILE: SamplingParams = { temperature: 0.7, max_tokens: 400, top_p: 0.95 };

/**
 * An in-memory snapshot of providers, models and task profiles, so no request reads them from the
 * database. `replace` swaps the whole snapshot at once when the rows change.
 */
export class Registry {
  private rows: Provider[] = [];
  private providers = new Map<string, Provider>();
  private models: Model[] = [];
  private profiles = new Map<string, SamplingParams>();
  private listeners: ((providers: Provider[]) => void)[] = [];
  /** Candidates per (task, named model), worked out once per snapshot: every request asks. */
  private routes = new Map<string, Candidate[]>();
  /** The first active model per key, by routing order, and the tasks: derived from each snapshot (the /v1 route asks on every request). */
  private byKey = new Map<string, Model>();
  private taskList: readonly string[] = [];
  /** The routing data's version in the database (see RegistrySync), or a local count of reloads. */
  version = 0;

  constructor(
    private settings: DeploymentSettings,
    private readonly readSecret: (name: string) => string | undefined,
  ) {}

  replace(providers: Provider[], models: Model[], profiles: TaskProfile[] = [], version = this.version + 1): void {
    this.rows = providers;
    this.models = models;
    this.profiles = new Map(profiles.map((p) => [p.task, { temperature: p.temperature, max_tokens: p.maxTokens, top_p: p.topP }]));
    this.byKey = new Map();
    const routingOrder = models.filter((m) => m.isActive).sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.priority - b.priority);
    for (const m of routingOrder) if (!this.byKey.has(m.modelKey)) this.byKey.set(m.modelKey, m);
    this.taskList = [...new Set([...this.profiles.keys(), ...models.map((m) => m.task)])];
    this.version = version;
    this.applyAll();
  }

  /**
   * Where the seeded worker is now: set when Parley's own worker has loaded its model. It stays set while
   * that worker restarts, so requests fail fast (refused) and health reports decide routing meanwhile.
   */
  setChatWorkerUrl(url: string | undefined): void {
    if (url === this.settings.chatWorkerUrl) return;
    this.settings = merge(this.settings, { chatWorkerUrl: url });
    this.applyAll();
  }

  private applyAll(): void {
    this.providers = new Map(this.rows.map((p) => [p.id, adapterFor(p.kind).resolve(p, this.settings)]));
    this.routes.clear();
    const workers = this.workers();
    for (const l of this.listeners) l(workers);
  }

  /** Called with the usable local workers after every reload (the health checker probes them). */
  onChange(listener: (workers: Provider[]) => void): void {
    this.listeners.push(listener);
  }

  /** Active providers whose liveness Parley checks (local workers), with somewhere to reach them. */
  workers(): Provider[] {
    return [...this.providers.values()].filter((p) => {
      const adapter = adapterFor(p.kind);
      return adapter.tracksLiveness && p.isActive && !adapter.unconfigured(p, this.settings);
    });
  }

  /** A provider as requests see it (deployment overrides applied). */
  provider(id: string): Provider | undefined {
    return this.providers.get(id);
  }

  /** Every provider as requests see it. */
  allProviders(): Provider[] {
    return [...this.providers.values()];
  }

  /** A provider's models, in routing order within each task. */
  modelsOf(providerId: string): Model[] {
    return this.tasks().flatMap((t) => this.candidates(t).filter((c) => c.provider.id === providerId).map((c) => c.model));
  }

  secretFor(p: Provider): string | undefined {
    return p.secretName ? this.readSecret(p.secretName) : undefined;
  }

  /** Why a candidate cannot be used, from its configuration alone (no network, no health). */
  skipReason(c: Candidate): SkipReason | undefined {
    if (!c.provider.isActive) return "provider_inactive";
    if (!c.model.isActive) return "model_inactive";
    return this.providerSkipReason(c.provider);
  }

  /** What keeps any of this provider's models from serving, whatever the model. */
  providerSkipReason(p: Provider): Exclude<SkipReason, "model_inactive"> | undefined {
    if (!p.isActive) return "provider_inactive";
    const unconfigured = adapterFor(p.kind).unconfigured(p, this.settings);
    if (unconfigured) return unconfigured;
    if (p.authScheme !== "none" && !this.secretFor(p)) return "missing_secret";
    return undefined;
  }

  tasks(): readonly string[] {
    return this.taskList;
  }

  /** An active model with this key (any provider), first by routing order. */
  findModel(modelKey: string): Model | undefined {
    return this.byKey.get(modelKey);
  }

  /** Every model that could serve now (active, with its provider configured), in routing order per task (`/v1/models`). */
  activeModels(): Candidate[] {
    return this.tasks().flatMap((t) => this.candidates(t).filter((c) => this.skipReason(c) === undefined));
  }

  /** The task profile, then the model's overrides for the task, then what the caller asked for. */
  paramsFor(c: Candidate, task: string, requested: RequestParams = {}): RequestParams {
    const params: Record<string, unknown> = merge(this.profiles.get(task) ?? FALLBACK_PROFILE, c.model.paramOverrides?.[task] ?? {});
    for (const [k, v] of Object.entries(requested)) if (v !== undefined) params[k] = v;
    return params as RequestParams;
  }

  /**
   * Candidates in the order they are tried: a named model first, then the task's models by
   * priority — the order an admin sets in the dashboard. On a tie the kind's rank decides (a local
   * worker goes first: free and private when it runs), then the default.
   */
  candidates(task: string, modelKey?: string): Candidate[] {
    const key = modelKey === undefined ? task : `${task}\u0000${modelKey}`;
    let found = this.routes.get(key);
    if (!found) {
      found = this.orderCandidates(task, modelKey);
      // Bounded: a model key is the client's text, and a snapshot should not grow with every one tried.
      if (this.routes.size < 1000) this.routes.set(key, found);
    }
    return found;
  }

  private orderCandidates(task: string, modelKey?: string): Candidate[] {
    const toCandidate = (m: Model): Candidate | undefined => {
      const provider = this.providers.get(m.providerId);
      return provider ? { provider, model: m } : undefined;
    };
    const named = modelKey ? [this.findModel(modelKey)].filter((m): m is Model => m !== undefined) : [];
    const tieRank = (m: Model) => {
      const p = this.providers.get(m.providerId);
      return p ? adapterFor(p.kind).tieRank : 0;
    };
    const forTask = this.models
      .filter((m) => m.task === task && !named.includes(m))
      .sort((a, b) => a.priority - b.priority || tieRank(a) - tieRank(b) || Number(b.isDefault) - Number(a.isDefault));
    return [...named, ...forTask].map(toCandidate).filter((c): c is Candidate => c !== undefined);
  }
}
