import { Hono } from "hono";
import { z } from "zod";
import { scenarioCreateSchema, scenarioPatchSchema, scenarioSchema, type ScenarioContext } from "../../../contracts/admin-schemas.js";
import type { ScenarioList } from "../../admin/views.js";
import type { Database } from "../../db/client.js";
import {
  deleteScenario,
  getScenarioRow,
  insertScenario,
  listModelRows,
  listScenarioRows,
  listTasks,
  sessionCounts,
  updateScenario,
} from "../../db/queries/admin.js";
import { AppError, notFound } from "../../errors.js";
import { practiceStats } from "../../db/queries/practice.js";
import { CARD_AVATAR_STYLE } from "../../../contracts/avatar-styles.js";
import type { AdminEnv } from "../../middleware/admin-auth.js";
import { readBinary, readJson, UUID_RE, validate } from "../validation.js";
import { editable, unique, type AdminDeps } from "./shared.js";

const deleteQuery = z.object({ withSessions: z.enum(["true", "false"]).optional() });

/** Scenarios with their private system prompts: the one place outside the prompt builder that reads them. */
export function scenarioAdminRoutes(deps: Pick<AdminDeps, "database" | "log" | "characters">) {
  const { database } = deps;

  const context = async (db: Database, editing?: string): Promise<ScenarioContext> => {
    const [tasks, models, scenarios] = await Promise.all([listTasks(db), listModelRows(db), listScenarioRows(db)]);
    return { tasks, modelKeys: [...new Set(models.map((m) => m.modelKey))], scenarios, ...(editing ? { editing } : {}) };
  };

  const load = async (id: string) => {
    const row = UUID_RE.test(id) ? await getScenarioRow(database.require(), id) : undefined;
    if (!row) throw notFound("Scenario");
    return row;
  };

  const taken = (slug: string) => `Another scenario already uses "${slug}"`;

  return new Hono<AdminEnv>()
    .get("/", async (c) => {
      const db = database.require();
      const ctx = await context(db);
      const counts = await sessionCounts(db, ctx.scenarios.map((s) => s.id));
      const rows = await listScenarioRows(db);
      const stats = await practiceStats(db);
      const practice = (id: string) => {
        const score = stats.scores.find((s) => s.scenario_id === id);
        const missed = stats.missed.find((m) => m.scenario_id === id);
        return score ? { practice: { averageScore: Math.round(score.average), attempts: score.attempts, mostMissed: missed ? { objective: missed.objective, missed: missed.missed } : null } } : {};
      };
      return c.json<ScenarioList>({
        tasks: [...ctx.tasks],
        modelKeys: [...ctx.modelKeys],
        scenarios: rows.map((s) => ({ ...s, sessions: counts.get(s.id) ?? 0, ...practice(s.id) })),
      });
    })
    // A character card (PNG, CHARX or JSON) as the body: a new scenario in the gallery, hidden until published.
    .post("/import-card", async (c) => {
      const result = await deps.characters.importToGallery(await readBinary(c));
      if (!result.alreadyImported) deps.log.info({ scenario: result.scenario.slug }, "admin imported a character card");
      return c.json({ ...result, scenario: { ...result.scenario, sessions: 0 } }, result.alreadyImported ? 200 : 201);
    })
    .post("/", async (c) => {
      const db = database.require();
      const input = await readJson(c, scenarioCreateSchema(await context(db)));
      const row = await unique(insertScenario(db, input), "slug", taken(input.slug));
      deps.log.info({ scenario: row.slug }, "admin created a scenario");
      return c.json({ scenario: { ...row, sessions: 0 } }, 201);
    })
    .patch("/:id", async (c) => {
      const db = database.require();
      const row = await load(c.req.param("id"));
      const patch = await readJson(c, scenarioPatchSchema);
      const ctx = await context(db, row.id);
      const input = validate(scenarioSchema(ctx), { ...editable(scenarioSchema(ctx), row), ...patch });
      // The card's picture is found by the scenario's slug, whatever it becomes.
      if (input.avatarStyle === CARD_AVATAR_STYLE) input.avatarSeed = input.slug;
      const updated = await unique(updateScenario(db, row.id, input), "slug", taken(input.slug));
      if (!updated) throw notFound("Scenario");
      deps.log.info({ scenario: updated.slug }, "admin edited a scenario");
      return c.json({ scenario: { ...updated, sessions: (await sessionCounts(db, [row.id])).get(row.id) ?? 0 } });
    })
    .delete("/:id", async (c) => {
      const db = database.require();
      const row = await load(c.req.param("id"));
      const { withSessions } = validate(deleteQuery, c.req.query());
      const sessions = (await sessionCounts(db, [row.id])).get(row.id) ?? 0;
      // Deleting a scenario deletes its conversations: never as a side effect of a click.
      if (sessions > 0 && withSessions !== "true") {
        throw new AppError(
          409,
          "scenario_in_use",
          `${sessions} conversation${sessions === 1 ? "" : "s"} use${sessions === 1 ? "s" : ""} "${row.title}"; hide it instead, or delete it together with them`,
        );
      }
      await deleteScenario(db, row.id);
      deps.log.info({ scenario: row.slug, sessions }, "admin deleted a scenario");
      return c.json({ deleted: row.id, sessions });
    });
}
