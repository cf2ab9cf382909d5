import type { Registry } from "../gateway/registry.js";
import type { Logger } from "../logger.js";
import type { DbHandle } from "./client.js";
import { loadRegistryRows, readRegistryVersion } from "./queries/registry.js";

export const REGISTRY_CHANNEL = "parley_registry";

/**
 * Keeps the in-memory registry in step with the database. A trigger bumps a version and sends
 * NOTIFY on every change to providers, models or task profiles: listening reloads at once (on
 * Postgres, for every instance sharing it), and a poll of the version catches anything a dropped
 * listen connection missed.
 */
export class RegistrySync {
  private handle: DbHandle | undefined;
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly registry: Registry,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {}

  async start(handle: DbHandle): Promise<void> {
    this.handle = handle;
    await this.reload();
    try {
      this.unlisten = await handle.listen(REGISTRY_CHANNEL, () => void this.reload());
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "registry LISTEN unavailable; polling only");
    }
    const poll = async () => {
      try {
        if (this.handle && (await readRegistryVersion(this.handle.db)) !== this.version) await this.reload();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "registry poll failed");
      }
      this.timer = setTimeout(() => void poll(), this.pollMs);
      this.timer.unref();
    };
    this.timer = setTimeout(() => void poll(), this.pollMs);
    this.timer.unref();
  }

  /** Loads the rows again; calls that arrive during a reload coalesce into one more. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        const db = this.handle?.db;
        if (!db) return;
        const version = await readRegistryVersion(db);
        const rows = await loadRegistryRows(db);
        this.registry.replace(rows.providers, rows.models, rows.profiles, version);
        this.version = version;
        this.log.debug({ version, models: rows.models.length }, "registry loaded");
      } while (this.again);
    })()
      .catch((err: Error) => this.log.error({ err: err.message }, "registry reload failed"))
      .finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  currentVersion(): number {
    return this.version;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.unlisten?.().catch(() => {});
    this.handle = undefined;
  }
}
