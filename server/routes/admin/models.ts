import { Hono } from "hono";
import { z } from "zod";
import { modelCreateSchema, modelPatchSchema, modelSchema, type ModelContext } from "../../../contracts/admin-schemas.js";
import type { Database } from "../../db/client.js";
import { deleteModel, getModelRow, insertModel, listModelRows, listTaskProfiles, listTasks, updateModel, updateTaskProfile, writeTaskOrder } from "../../db/queries/admin.js";
import { taskProfileSchema } from "../../../contracts/admin-schemas.js";
import type { ModelGroups, ModelView } from "../../admin/views.js";
import type { ModelRow } from "../../db/schema.js";
import { notFound } from "../../errors.js";
import { breakerKeyOf } from "../../gateway/provider-health.js";
import type { AdminEnv } from "../../middleware/admin-auth.js";
import { readJson, UUID_RE, validate } from "../validation.js";
import { editable, unique, type AdminDeps } from "./shared.js";

const moveSchema = z.object({ direction: z.enum(["up", "down"], 'Say "up" or "down"') }).strict();

export function modelRoutes(deps: AdminDeps) {
  const { database, registry, gateway } = deps;

  const context = async (db: Database, editing?: string): Promise<ModelContext> => ({
    tasks: await listTasks(db),
    models: await listModelRows(db),
    ...(editing ? { editing } : {}),
  });

  /** A task's rows in the order requests try them: the registry's order, which the arrows edit. */
  const inRoutingOrder = (rows: ModelRow[], task: string) => {
    const rank = new Map(registry.candidates(task).map((c, i) => [c.model.id, i]));
    return rows.filter((m) => m.task === task).sort((a, b) => (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9) || a.priority - b.priority);
  };

  const view = (m: ModelRow): ModelView => {
    const provider = registry.provider(m.providerId);
    const candidate = provider ? registry.candidates(m.task).find((c) => c.model.id === m.id) : undefined;
    const circuit = provider ? gateway.status().circuits[breakerKeyOf(provider.name, m.modelKey)] : undefined;
    return {
      ...m,
      provider: provider ? { id: provider.id, name: provider.name, displayName: provider.displayName, kind: provider.kind } : null,
      /** Why requests pass this model by, from configuration alone; null when it can serve. */
      skipReason: candidate ? (registry.skipReason(candidate) ?? null) : "provider_missing",
      circuit: circuit?.state ?? "closed",
    };
  };

  const load = async (id: string) => {
    const row = UUID_RE.test(id) ? await getModelRow(database.require(), id) : undefined;
    if (!row) throw notFound("Model");
    return row;
  };

  const taken = (m: { modelKey: string; task: string }) => `This provider already has "${m.modelKey}" for the ${m.task} task`;

  /** Rewrites the task's order with one model moved to `to` (an index in the current order). */
  async function moveTo(row: ModelRow, to: (index: number, length: number) => number) {
    const db = database.require();
    const order = inRoutingOrder(await listModelRows(db), row.task).map((m) => m.id);
    const from = order.indexOf(row.id);
    const target = Math.max(0, Math.min(order.length - 1, to(from, order.length)));
    order.splice(from, 1);
    order.splice(target, 0, row.id);
    await writeTaskOrder(db, order);
    await deps.reloadRegistry();
  }

  const list = async (): Promise<ModelGroups> => {
    const db = database.require();
    const [tasks, rows] = await Promise.all([listTasks(db), listModelRows(db)]);
    const all = [...new Set([...tasks, ...rows.map((r) => r.task)])];
    return { tasks, groups: all.map((task) => ({ task, models: inRoutingOrder(rows, task).map(view) })) };
  };

  return new Hono<AdminEnv>()
    .get("/", async (c) => c.json(await list()))
    .post("/", async (c) => {
      const db = database.require();
      const input = await readJson(c, modelCreateSchema(await context(db)));
      const row = await unique(insertModel(db, input), "modelKey", taken(input));
      if (row.isDefault) await moveTo(row, () => 0);
      else await deps.reloadRegistry();
      deps.log.info({ model: row.modelKey, task: row.task }, "admin added a model");
      return c.json({ model: view((await getModelRow(db, row.id)) ?? row) }, 201);
    })
    .patch("/:id", async (c) => {
      const db = database.require();
      const row = await load(c.req.param("id"));
      const patch = await readJson(c, modelPatchSchema);
      const input = validate(modelSchema(await context(db, row.id)), { ...editable(modelSchema({ tasks: [], models: [] }), row), ...patch });
      const updated = await unique(updateModel(db, row.id, input), "modelKey", taken(input));
      if (!updated) throw notFound("Model");
      // Made the default: it becomes the task's first choice, as the order shows it.
      if (patch.isDefault === true && !row.isDefault) await moveTo(updated, () => 0);
      else await deps.reloadRegistry();
      deps.log.info({ model: updated.modelKey, task: updated.task }, "admin edited a model");
      return c.json({ model: view((await getModelRow(db, row.id)) ?? updated) });
    })
    .post("/:id/move", async (c) => {
      const row = await load(c.req.param("id"));
      const { direction } = await readJson(c, moveSchema);
      await moveTo(row, (i) => (direction === "up" ? i - 1 : i + 1));
      return c.json(await list());
    })
    .delete("/:id", async (c) => {
      const row = await load(c.req.param("id"));
      await deleteModel(database.require(), row.id);
      await deps.reloadRegistry();
      deps.log.info({ model: row.modelKey, task: row.task }, "admin deleted a model");
      return c.json({ deleted: row.id });
    });
}

/** Task profiles (role-play, enhance, coach, evaluate, …): each task's sampling defaults, rows like the others. */
export function taskRoutes(deps: Pick<AdminDeps, "database" | "log" | "reloadRegistry">) {
  return new Hono<AdminEnv>()
    .get("/", async (c) => c.json({ tasks: await listTaskProfiles(deps.database.require()) }))
    .patch("/:task", async (c) => {
      const input = await readJson(c, taskProfileSchema);
      const row = await updateTaskProfile(deps.database.require(), c.req.param("task"), input);
      if (!row) throw notFound("Task");
      // The next request routes with the new profile on every instance before the answer goes.
      await deps.reloadRegistry();
      deps.log.info({ task: row.task }, "admin edited a task profile");
      return c.json({ task: row });
    });
}
