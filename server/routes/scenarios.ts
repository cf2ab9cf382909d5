import { Hono } from "hono";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { getPublicScenario, listPublicScenarios, type PublicScenarioRow } from "../db/queries/scenarios.js";
import { notFound } from "../errors.js";
import type { Logger } from "../logger.js";
import { BUILTIN_SCENARIOS } from "../scenarios/builtin.js";

type Source = "database" | "builtin";

/** The built-in copies, stripped to public fields like the database rows. */
const builtinPublic = (): PublicScenarioRow[] =>
  BUILTIN_SCENARIOS.map(({ systemPrompt: _private, sortOrder: _order, ...pub }) => ({ id: `builtin:${pub.slug}`, ...pub }));

export function scenarioRoutes(deps: { database: DatabaseLifecycle; log: Logger }) {
  /** The database's scenarios, or the built-in ones when it cannot be read. */
  async function load<T>(fromDb: (db: NonNullable<DatabaseLifecycle["db"]>) => Promise<T>, fromBuiltin: () => T) {
    const db = deps.database.db;
    if (db) {
      try {
        return { value: await fromDb(db), source: "database" as Source };
      } catch (err) {
        deps.log.error({ err: (err as Error).message }, "reading scenarios failed; serving built-in scenarios");
      }
    }
    return { value: fromBuiltin(), source: "builtin" as Source };
  }

  return new Hono()
    .get("/", async (c) => {
      const { value, source } = await load(listPublicScenarios, builtinPublic);
      return c.json({ source, scenarios: value.map((s) => ({ ...s, source })) });
    })
    .get("/:slug", async (c) => {
      const slug = c.req.param("slug");
      const { value, source } = await load(
        (db) => getPublicScenario(db, slug),
        () => builtinPublic().find((s) => s.slug === slug),
      );
      if (!value) throw notFound(`Scenario "${slug}"`);
      return c.json({ scenario: { ...value, source } });
    });
}
