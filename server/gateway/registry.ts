import type { Candidate, Model, Provider } from "./types.js";

export type DeploymentOverrides = {
  /** OPENROUTER_BASE_URL: where the `openrouter` provider lives (a proxy, or a test upstream). */
  openrouterBaseUrl: string;
  /** CHAT_WORKER_URL: the local worker; without it, `chat_worker` providers are not usable. */
  chatWorkerUrl: string | undefined;
};

export type SkipReason = "provider_inactive" | "model_inactive" | "missing_secret" | "worker_not_configured";

/**
 * An in-memory snapshot of providers and models, so no request reads them from the database.
 * `replace` swaps the whole snapshot at once when the rows change.
 */
export class Registry {
  private providers = new Map<string, Provider>();
  private models: Model[] = [];

  constructor(
    private readonly overrides: DeploymentOverrides,
    private readonly readSecret: (name: string) => string | undefined,
  ) {}

  replace(providers: Provider[], models: Model[]): void {
    this.providers = new Map(providers.map((p) => [p.id, this.applyOverrides(p)]));
    this.models = models;
  }

  private applyOverrides(p: Provider): Provider {
    if (p.kind === "openrouter") return { ...p, baseUrl: this.overrides.openrouterBaseUrl };
    if (p.kind === "chat_worker" && this.overrides.chatWorkerUrl) return { ...p, baseUrl: this.overrides.chatWorkerUrl };
    return p;
  }

  secretFor(p: Provider): string | undefined {
    return p.secretName ? this.readSecret(p.secretName) : undefined;
  }

  /** Why a candidate cannot be used right now, decided without any network call. */
  skipReason(c: Candidate): SkipReason | undefined {
    if (!c.provider.isActive) return "provider_inactive";
    if (!c.model.isActive) return "model_inactive";
    if (c.provider.kind === "chat_worker" && !this.overrides.chatWorkerUrl) return "worker_not_configured";
    if (c.provider.authScheme !== "none" && !this.secretFor(c.provider)) return "missing_secret";
    return undefined;
  }

  /**
   * Candidates in the order they are tried: a named model first, then the task's models —
   * the local worker first (free and private when it runs), then the default, then by priority.
   */
  candidates(task: string, modelKey?: string): Candidate[] {
    const toCandidate = (m: Model): Candidate | undefined => {
      const provider = this.providers.get(m.providerId);
      return provider ? { provider, model: m } : undefined;
    };
    const named = modelKey
      ? this.models.filter((m) => m.modelKey === modelKey).slice(0, 1)
      : [];
    const forTask = this.models
      .filter((m) => m.task === task && !named.includes(m))
      .sort((a, b) => {
        const wa = this.providers.get(a.providerId)?.kind === "chat_worker" ? 0 : 1;
        const wb = this.providers.get(b.providerId)?.kind === "chat_worker" ? 0 : 1;
        return wa - wb || Number(b.isDefault) - Number(a.isDefault) || a.priority - b.priority;
      });
    return [...named, ...forTask].map(toCandidate).filter((c): c is Candidate => c !== undefined);
  }
}
