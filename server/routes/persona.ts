import { Hono } from "hono";
import { personaSchema } from "../../contracts/persona.js";
import type { AppEnv } from "../app-env.js";
import type { ChatService } from "../chat/service.js";
import { readJson } from "./validation.js";

/** The person's usual persona: their name for `{{user}}` and what characters are told of them. */
export function personaRoutes(deps: { chat: ChatService }) {
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json({ persona: await deps.chat.persona(c.var.clientId) }))
    .put("/", async (c) => {
      const persona = await readJson(c, personaSchema);
      await deps.chat.setPersona(c.var.clientId, persona);
      return c.json({ persona });
    });
}
