import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { getPublicScenario, listPublicScenarios } from "../db/queries/scenarios.js";
import { notFound } from "../errors.js";
import type { Logger } from "../logger.js";
import type { PracticeService } from "../chat/practice.js";
import { BUILTIN_SCENARIOS } from "../scenarios/builtin.js";
import { PUBLIC_SCENARIO_FIELDS, pickFields, type PublicScenario, type ScenarioDetail } from "../views.js";
import { errorFields } from "../error-report.js";

type Source = "database" | "builtin";

/** The built-in copies, cut to the same allow-list of public fields as the database rows. */
const BUILTIN_PUBLIC: PublicScenario[] = BUILTIN_SCENARIOS.map((s) =>
  pickFields({ ...s, id: `builtin:${s.slug}` }, PUBLIC_SCENARIO_FIELDS),
);
const builtinPublic = () => BUILTIN_PUBLIC;

export function scenarioRoutes(deps: { database: DatabaseLifecycle; log: Logger; practice: PracticeService }) {
  /** The database's scenarios, or the built-in ones when it cannot be read. */
  async function load<T>(fromDb: (db: NonNullable<DatabaseLifecycle["db"]>) => Promise<T>, fromBuiltin: () => T) {
    const db = deps.database.db;
    if (db) {
      try {
        return { value: await fromDb(db), source: "database" as Source };
      } catch (err) {
        deps.log.error(errorFields(err), "reading scenarios failed; serving built-in scenarios");
      }
    }
    return { value: fromBuiltin(), source: "builtin" as Source };
  }

  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const { value, source } = await load(listPublicScenarios, builtinPublic);
      return c.json({ source, scenarios: value.map((s) => ({ ...s, source })) });
    })
    // The person's scores over their attempts at a practice scenario.
    .get("/:slug/progress", async (c) => c.json({ progress: await deps.practice.progress(c.get("clientId"), c.req.param("slug")) }))
    .get("/:slug", async (c) => {
      const slug = c.req.param("slug");
      const { value, source } = await load(
        (db) => getPublicScenario(db, slug, c.get("clientId")),
        (): ScenarioDetail | undefined => {
          const s = builtinPublic().find((b) => b.slug === slug);
          return s && { ...s, alternateGreetings: [], withdrawn: false };
        },
      );
      if (!value) throw notFound(`Scenario "${slug}"`);
      return c.json({ scenario: { ...value, source } });
    });
}
