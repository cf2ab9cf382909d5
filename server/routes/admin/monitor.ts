import { eq } from "drizzle-orm";
import { listInstances } from "../../db/queries/instances.js";
import { Hono } from "hono";
import { z } from "zod";
import type { HealthView, RequestPage } from "../../admin/views.js";
import { listModelRows } from "../../db/queries/admin.js";
import { listRequests, usageSummary } from "../../db/queries/usage.js";
import { REQUEST_STATUSES, USAGE_WINDOWS } from "../../../contracts/enums.js";
import { systemConfig } from "../../db/schema.js";
import { breakerKeyOf } from "../../gateway/provider-health.js";
import type { AdminEnv } from "../../middleware/admin-auth.js";
import { UUID_RE, validate } from "../validation.js";
import type { AdminDeps } from "./shared.js";

const keyId = z.string().regex(UUID_RE, "A key id is a UUID").optional();
const usageQuery = z.object({ window: z.enum(USAGE_WINDOWS, "Choose hour, day or week").default("day"), key: keyId });
const requestsQuery = z.object({
  status: z.enum(REQUEST_STATUSES, "Unknown status").optional(),
  model: z.string().trim().min(1).max(200).optional(),
  session: z.string().regex(UUID_RE, "A session id is a UUID").optional(),
  key: keyId,
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** GET /health (what routing sees now) and GET /usage, /requests (what happened), for the Health and Usage tabs. */
export function monitorRoutes(deps: AdminDeps) {
  const { database, registry, gateway } = deps;

  return new Hono<AdminEnv>()
    .get("/health", async (c) => {
      const status = gateway.status();
      const db = database.db;
      // The shared copy: what every instance routes by (this one's memory may be a probe fresher).
      const [stored] = db ? await db.select().from(systemConfig).where(eq(systemConfig.key, "workerHealthCache")) : [];
      const models = db ? await listModelRows(db) : [];
      const view: HealthView = {
        at: new Date().toISOString(),
        instance: deps.instanceId,
        instances: db ? await listInstances(db) : [],
        rateLimit: deps.rateLimits.status(),
        database: await database.status(),
        registryVersion: registry.version,
        localWorker: deps.localWorker(),
        workerHealth: {
          instance: status.workers,
          shared: (stored?.value as HealthView["workerHealth"]["shared"] | undefined) ?? null,
          sharedAt: stored?.updatedAt ?? null,
        },
        providers: registry.allProviders().map((p) => ({ id: p.id, name: p.name, displayName: p.displayName, kind: p.kind, health: gateway.providerHealth(p.id) })),
        circuits: models.map((m) => {
          const provider = registry.provider(m.providerId);
          const circuit = provider ? status.circuits[breakerKeyOf(provider.name, m.modelKey)] : undefined;
          return {
            modelId: m.id,
            provider: provider?.name ?? null,
            model: m.modelKey,
            task: m.task,
            isActive: m.isActive,
            state: circuit?.state ?? "closed",
            failures: circuit?.failures ?? 0,
            lastError: circuit?.lastError ?? null,
            openedAt: circuit?.openedAt ?? null,
          };
        }),
      };
      return c.json(view);
    })
    .get("/usage", async (c) => {
      const { window, key } = validate(usageQuery, c.req.query());
      return c.json(await usageSummary(database.require(), window, new Date(), key));
    })
    .get("/requests", async (c) => {
      const q = validate(requestsQuery, c.req.query());
      const rows = await listRequests(database.require(), { status: q.status, model: q.model, sessionId: q.session, apiKeyId: q.key, before: q.before, limit: q.limit });
      return c.json<RequestPage>({ requests: rows, next: rows.length === q.limit ? rows.at(-1)!.id : null });
    });
}
