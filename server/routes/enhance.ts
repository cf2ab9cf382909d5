import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import type { EnhanceService } from "../chat/enhance.js";
import { rethrow } from "./gateway-errors.js";
import { clientGone } from "./node-io.js";
import { routingHeaders } from "./routing-headers.js";
import { missingOrWrong, readJson, UUID_RE } from "./validation.js";

const enhanceBody = z.object({
  text: z.string(missingOrWrong("text is required", "text must be a string")),
  sessionId: z.string().regex(UUID_RE, "sessionId must be a session id").optional(),
});

export function enhanceRoutes(deps: { enhance: EnhanceService; limit: MiddlewareHandler<AppEnv> }) {
  return new Hono<AppEnv>().post("/", deps.limit, async (c) => {
    const body = await readJson(c, enhanceBody);
    const result = await deps
      .enhance({ clientId: c.var.clientId, text: body.text, sessionId: body.sessionId, signal: clientGone(c) })
      .catch(rethrow);
    routingHeaders(c, result.candidate, result.attempts);
    return c.json({ text: result.text });
  });
}
