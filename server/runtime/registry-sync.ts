import type { Registry } from "../gateway/registry.js";
import type { Logger } from "../logger.js";
import { errorFields } from "../error-report.js";
import type { DbHandle } from "../db/client.js";
import { laggingInstances, removeInstance, reportInstance } from "../db/queries/instances.js";
import { loadRegistryRows, readRegistryVersion } from "../db/queries/registry.js";

export const REGISTRY_CHANNEL = "parley_registry";

/** Every instance says it is alive this often; one silent for three beats is taken for gone. */
const HEARTBEAT_MS = 5000;
const ALIVE_S = 15;
/** How long an admin's change waits for the other instances before answering anyway. */
const ACK_TIMEOUT_MS = 5000;

/**
 * Keeps the in-memory registry in step with the database. A trigger bumps a version and sends
 * NOTIFY on every change to providers, models or task profiles: listening reloads at once (on
 * Postgres, for every instance sharing it), and a poll of the version catches anything a dropped
 * listen connection missed. Each instance records the version it runs on (and a heartbeat) in
 * `instances`, so a change can be answered once every live instance routes by it.
 */
export class RegistrySync {
  private handle: DbHandle | undefined;
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The API keys /v1 checks in memory: reloaded with the routing rows (one trigger bumps the version for both). */
  keyRing: { replace(rows: Awaited<ReturnType<typeof loadRegistryRows>>["keys"]): void } | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly instanceId: string,
  ) {}

  /** Also called again with a new handle when an embedded database is reopened. */
  async start(handle: DbHandle): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
    this.handle = handle;
    await this.reload();
    try {
      this.unlisten = await handle.listen(REGISTRY_CHANNEL, () => void this.reload());
    } catch (err) {
      this.log.warn(errorFields(err), "registry LISTEN unavailable; polling only");
    }
    const poll = async () => {
      try {
        if (this.handle && (await readRegistryVersion(this.handle.db)) !== this.version) await this.reload();
      } catch (err) {
        this.log.warn(errorFields(err), "registry poll failed");
      }
      this.timer = setTimeout(() => void poll(), this.pollMs);
      this.timer.unref();
    };
    this.timer = setTimeout(() => void poll(), this.pollMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => void this.report(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private async report(): Promise<void> {
    const db = this.handle?.db;
    if (!db || this.version < 0) return;
    await reportInstance(db, this.instanceId, this.version).catch((err: unknown) => this.log.warn(errorFields(err), "recording this instance failed"));
  }

  /**
   * Reloads here, then waits (5 s at most) until every other live instance runs on the same
   * version: an admin's change is answered only once the next request anywhere routes by it.
   */
  async reloadEverywhere(): Promise<void> {
    await this.reload();
    const db = this.handle?.db;
    if (!db) return;
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    let lagging = await laggingInstances(db, this.version, ALIVE_S);
    while (lagging.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      lagging = await laggingInstances(db, this.version, ALIVE_S);
    }
    if (lagging.length > 0) this.log.warn({ lagging, version: this.version }, "instances did not load the routing change in time");
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
        this.keyRing?.replace(rows.keys);
        this.version = version;
        await reportInstance(db, this.instanceId, version);
        this.log.debug({ version, models: rows.models.length }, "registry loaded");
      } while (this.again);
    })()
      .catch((err: unknown) => this.log.error(errorFields(err), "registry reload failed"))
      .finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  currentVersion(): number {
    return this.version;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    await this.unlisten?.().catch(() => {});
    // Gone at once rather than after the heartbeat lapses, so no change waits for it.
    if (this.handle) await removeInstance(this.handle.db, this.instanceId).catch(() => {});
    this.handle = undefined;
  }
}
