import { Hono } from "hono";
import { errorBody } from "../../errors.js";
import { requireAdmin, type AdminEnv } from "../../middleware/admin-auth.js";
import { loginRoutes } from "./login.js";
import { modelRoutes, taskRoutes } from "./models.js";
import { keyRoutes } from "./keys.js";
import { monitorRoutes } from "./monitor.js";
import { providerRoutes } from "./providers.js";
import { scenarioAdminRoutes } from "./scenarios.js";
import { characterEditorRoutes } from "../characters.js";
import { lorebookRoutes } from "../lorebooks.js";
import { messageIdOf, sessionIdOf } from "../sessions.js";
import type { AdminDeps } from "./shared.js";

export type { AdminDeps };

/** Everything under /api/admin: the login paths open, the rest behind requireAdmin — unknown paths included, so a 401 tells nothing. */
export function adminRoutes(deps: AdminDeps) {
  const app = new Hono<AdminEnv>();
  app.route("/", loginRoutes(deps));
  app.use("*", requireAdmin(deps));
  app.route("/providers", providerRoutes(deps));
  app.route("/models", modelRoutes(deps));
  app.route("/tasks", taskRoutes(deps));
  app.route("/keys", keyRoutes(deps));
  app.route("/scenarios", scenarioAdminRoutes(deps));
  // The gallery's characters and lorebooks (owner null), edited as a person edits their own.
  app.route("/characters", characterEditorRoutes({ characters: deps.characters, owner: () => null }));
  app.route("/lorebooks", lorebookRoutes({ lorebooks: deps.lorebooks, owner: () => null }));
  // What the model saw for any reply, whoever's character.
  app.get("/sessions/:id/messages/:messageId/prompt", async (c) =>
    c.json(await deps.chat.promptReport("admin", sessionIdOf(c.req.param("id")), messageIdOf(c.req.param("messageId")))),
  );
  app.route("/", monitorRoutes(deps));
  app.all("*", (c) => c.json(errorBody("not_found", `No admin route ${c.req.method} ${c.req.path}`), 404));
  return app;
}
