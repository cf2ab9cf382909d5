import { Hono } from "hono";
import { providerCreateSchema, providerPatchSchema, providerSchema } from "../../../contracts/admin-schemas.js";
import { countModelsOf, deleteProvider, getProviderRow, insertProvider, listProviderRows, updateProvider } from "../../db/queries/admin.js";
import type { ProviderRow } from "../../db/schema.js";
import type { ProviderView } from "../../admin/views.js";
import { AppError, notFound } from "../../errors.js";
import type { AdminEnv } from "../../middleware/admin-auth.js";
import { readJson, readOptionalJson, UUID_RE, validate } from "../validation.js";
import { z } from "zod";
import { SEEDED_WORKER } from "../../gateway/registry.js";
import { privateUrlTarget } from "../../gateway/upstream-guard.js";
import { editable, unique, type AdminDeps } from "./shared.js";

const probeSchema = z.object({ modelId: z.uuid().optional() }).strict();

export function providerRoutes(deps: AdminDeps) {
  const { database, registry, gateway } = deps;

  /** The row as an admin sees it: where requests really go, whether its key is set (never the key), and how it is doing. */
  const view = (row: ProviderRow): ProviderView => {
    const live = registry.provider(row.id);
    return {
      ...row,
      effectiveBaseUrl: live?.baseUrl ?? row.baseUrl,
      secretPresent: row.secretName ? registry.secretFor(live ?? row) !== undefined : null,
      models: registry.modelsOf(row.id).map((m) => ({ id: m.id, modelKey: m.modelKey, task: m.task })),
      health: gateway.providerHealth(row.id) ?? null,
    };
  };

  const load = async (id: string) => {
    const row = UUID_RE.test(id) ? await getProviderRow(database.require(), id) : undefined;
    if (!row) throw notFound("Provider");
    return row;
  };

  const taken = (name: string) => `Another provider is already named "${name}"`;

  /** What the shared schema cannot know: which variables this deployment lets a provider read, and which hosts it may reach. */
  const checkDeployment = (input: { name: string; baseUrl: string; secretName: string | null }) => {
    const fields: Record<string, string> = {};
    const secretProblem = input.secretName ? deps.secretNameProblem(input.secretName) : undefined;
    if (secretProblem) fields.secretName = secretProblem;
    const target = deps.allowPrivateUpstreams || input.name === SEEDED_WORKER ? undefined : privateUrlTarget(input.baseUrl);
    if (target) fields.baseUrl = target;
    const first = Object.entries(fields)[0];
    if (first) throw new AppError(400, "invalid_request", `${first[0]}: ${first[1]}`, fields);
  };

  return new Hono<AdminEnv>()
    .get("/", async (c) => {
      const rows = await listProviderRows(database.require());
      return c.json({ providers: rows.map(view) });
    })
    .post("/", async (c) => {
      const input = await readJson(c, providerCreateSchema);
      checkDeployment(input);
      const row = await unique(insertProvider(database.require(), input), "name", taken(input.name));
      await deps.reloadRegistry();
      deps.log.info({ provider: row.name }, "admin created a provider");
      return c.json({ provider: view(row) }, 201);
    })
    .get("/:id", async (c) => c.json({ provider: view(await load(c.req.param("id"))) }))
    .patch("/:id", async (c) => {
      const row = await load(c.req.param("id"));
      const patch = await readJson(c, providerPatchSchema);
      const input = validate(providerSchema, { ...editable(providerSchema, row), ...patch });
      checkDeployment(input);
      const updated = await unique(updateProvider(database.require(), row.id, input), "name", taken(input.name));
      if (!updated) throw notFound("Provider");
      await deps.reloadRegistry();
      deps.log.info({ provider: updated.name }, "admin edited a provider");
      return c.json({ provider: view(updated) });
    })
    .delete("/:id", async (c) => {
      const row = await load(c.req.param("id"));
      const db = database.require();
      const models = await countModelsOf(db, row.id);
      if (models > 0) {
        throw new AppError(
          409,
          "provider_in_use",
          `${row.displayName} still has ${models} model${models === 1 ? "" : "s"}; delete or deactivate ${models === 1 ? "it" : "them"} first, or deactivate the provider instead`,
        );
      }
      await deleteProvider(db, row.id);
      await deps.reloadRegistry();
      deps.log.info({ provider: row.name }, "admin deleted a provider");
      return c.json({ deleted: row.id });
    })
    .post("/:id/test", async (c) => {
      const row = await load(c.req.param("id"));
      const { modelId } = await readOptionalJson(c, probeSchema);
      const result = await gateway.probe(row.id, modelId);
      if (!result) throw new AppError(409, "no_models", `${row.displayName} has no model to test with; add one first`);
      return c.json({ result, provider: view(row) });
    })
    .get("/:id/upstream-models", async (c) => {
      const row = await load(c.req.param("id"));
      const listing = gateway.upstreamModels(row.id);
      if (!listing) throw notFound("Provider");
      try {
        return c.json({ models: await listing });
      } catch (err) {
        throw new AppError(502, "upstream_unavailable", (err as Error).message);
      }
    });
}
