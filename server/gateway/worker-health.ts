import type { Provider } from "./types.js";

import type { WorkerHealthEntry } from "../../contracts/gateway-status.js";

export type { WorkerHealthEntry };
/** Keyed by the provider's name in camelCase: the seeded `chat_worker` is `chatWorker`. */
export type WorkerHealthCache = Record<string, WorkerHealthEntry>;

export type WorkerHealthOptions = {
  intervalMs: number;
  /** Writes the cache where other instances and the admin can read it (system_config). */
  persist: (cache: WorkerHealthCache) => Promise<void>;
  fetch?: typeof fetch;
  onError?: (err: Error) => void;
};

export const healthKey = (providerName: string) => providerName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The worker's `/health` sits beside its OpenAI API: `http://host:port/v1` → `http://host:port/health`. */
export function healthUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "")}/health`;
}

/**
 * Probes each local chat worker in the background and caches the answer, so routing decides
 * from memory and no request ever waits on a probe. Requests report their own outcome too:
 * a worker that just refused a connection is skipped by the next request, not after the next probe.
 */
export class WorkerHealth {
  private workers: Provider[] = [];
  private cache: WorkerHealthCache = {};
  private timer: NodeJS.Timeout | undefined;
  private persisting: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: WorkerHealthOptions) {
    this.doFetch = opts.fetch ?? fetch;
  }

  /** The workers to probe (`Registry.workers()`); called whenever the registry is reloaded. */
  setWorkers(workers: Provider[]): void {
    this.workers = workers;
    const keep = new Set(this.workers.map((w) => healthKey(w.name)));
    for (const k of Object.keys(this.cache)) if (!keep.has(k)) delete this.cache[k];
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      await this.probeAll();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.intervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.persisting;
  }

  /** Unknown (never probed) counts as usable: the first request finds out, and reports. */
  isUsable(providerName: string): boolean {
    return this.cache[healthKey(providerName)]?.isHealthy ?? true;
  }

  report(providerName: string, isHealthy: boolean, responseTime: number | null, error?: string): void {
    const key = healthKey(providerName);
    const was = this.cache[key]?.isHealthy;
    this.cache[key] = { isHealthy, lastCheck: new Date().toISOString(), responseTime, ...(error ? { error } : {}) };
    if (was !== isHealthy) this.save();
  }

  snapshot(): WorkerHealthCache {
    return structuredClone(this.cache);
  }

  async probeAll(): Promise<void> {
    if (this.workers.length === 0) return;
    await Promise.all(this.workers.map((w) => this.probe(w)));
    this.save();
  }

  private async probe(w: Provider): Promise<void> {
    const started = performance.now();
    try {
      const res = await this.doFetch(healthUrl(w.baseUrl), {
        signal: AbortSignal.timeout(Math.min(this.opts.intervalMs, 3000)),
        headers: { Accept: "application/json" },
      });
      const body = (await res.json().catch(() => ({}))) as { isHealthy?: boolean };
      // Not every OpenAI-compatible server has /health; one without is judged by its requests alone.
      const healthy = (res.ok && body.isHealthy !== false) || res.status === 404;
      this.report(w.name, healthy, Math.round(performance.now() - started), healthy ? undefined : `health check answered ${res.status}`);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      this.report(w.name, false, null, cause ? `health check failed (${cause})` : `health check failed (${(err as Error).name})`);
    }
  }

  private save(): void {
    const snapshot = this.snapshot();
    this.persisting = this.persisting
      .then(() => this.opts.persist(snapshot))
      .catch((err: Error) => this.opts.onError?.(err));
  }
}
