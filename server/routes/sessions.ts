import type { PracticeService } from "../chat/practice.js";
import { rethrow } from "./gateway-errors.js";
import { Hono, type MiddlewareHandler } from "hono";
import { timing } from "hono/timing";
import { personaSchema } from "../../contracts/persona.js";
import { z } from "zod";
import { MAX_PAGE_SIZE, PAGE_SIZE, type ChatService } from "../chat/service.js";
import { notFound } from "../errors.js";
import type { Logger } from "../logger.js";
import type { AppEnv } from "../app-env.js";
import { clientGone } from "./node-io.js";
import { streamReply } from "./reply-stream.js";
import { readJson, UUID_RE, validate } from "./validation.js";
import { attachment } from "./attachment.js";

const createSessionBody = z.object({ scenario: z.string().min(1).max(200) });
const sendMessageBody = z.object({ content: z.string() });
const updateBody = z
  .object({
    title: z.string().max(120, "A title is at most 120 characters").optional(),
    /** The conversation's own persona; null goes back to the person's usual one. */
    persona: personaSchema.nullable().optional(),
  })
  .refine((b) => b.title !== undefined || b.persona !== undefined, "Give a title or a persona to change");
const exportQuery = z.object({ format: z.enum(["jsonl", "markdown"]).default("jsonl") });
const importBody = z.object({
  scenario: z.string().min(1).max(200),
  /** The SillyTavern chat file's text. */
  jsonl: z.string().min(1, "The chat file is empty"),
  title: z.string().max(120).optional(),
});
const listQuery = z.object({ q: z.string().trim().max(200, "Search for at most 200 characters").optional() });
const pageQuery = z.object({
  before: z.string().regex(UUID_RE, "before must be a message id"),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(PAGE_SIZE),
});

/** Ids from the path: anything but a UUID is simply not found. */
export const sessionIdOf = (id: string) => {
  if (!UUID_RE.test(id)) throw notFound("Session");
  return id;
};
export const messageIdOf = (id: string) => {
  if (!UUID_RE.test(id)) throw notFound("Message");
  return id;
};

export function sessionRoutes(deps: {
  chat: ChatService;
  practice: PracticeService;
  log: Logger;
  limit: MiddlewareHandler<AppEnv>;
  limitCreate: MiddlewareHandler<AppEnv>;
}) {
  const { chat, log } = deps;
  const sessionId = sessionIdOf;
  const messageId = messageIdOf;

  return new Hono<AppEnv>()
    // The person's conversations, newest first: any of them is one click away, however old.
    .get("/", async (c) => {
      const q = validate(listQuery, c.req.query());
      return c.json({ sessions: await chat.listSessions(c.var.clientId, q.q || undefined) });
    })
    // A SillyTavern chat (JSONL) becomes a new conversation of a scenario; counted like creating one.
    .post("/import", deps.limitCreate, async (c) => {
      const body = await readJson(c, importBody);
      const session = await chat.importSession({ clientId: c.var.clientId, ...body });
      return c.json({ session }, 201);
    })
    .post("/", deps.limitCreate, async (c) => {
      const body = await readJson(c, createSessionBody);
      const session = await chat.startSession(c.var.clientId, body.scenario);
      return c.json({ session }, 201);
    })
    // Reading a thread says how long it took (Server-Timing): the long-session bench reads it.
    .get("/:id", timing({ totalDescription: "read" }), async (c) => {
      const session = await chat.getSessionView(c.var.clientId, sessionId(c.req.param("id")));
      return c.json({ session });
    })
    .get("/:id/export", async (c) => {
      const id = sessionId(c.req.param("id"));
      const q = validate(exportQuery, c.req.query());
      const file = await chat.exportSession({ clientId: c.var.clientId, sessionId: id, format: q.format });
      c.header("Content-Type", `${file.type}; charset=utf-8`);
      c.header("Content-Disposition", attachment(file.filename));
      return c.body(file.body);
    })
    .patch("/:id", async (c) => {
      const id = sessionId(c.req.param("id"));
      const body = await readJson(c, updateBody);
      await chat.updateSession({ clientId: c.var.clientId, sessionId: id, ...body });
      return c.json({ ok: true });
    })
    // Deleting a conversation is soft: restore (Undo) brings it back until it is purged.
    .delete("/:id", async (c) => {
      await chat.deleteSession({ clientId: c.var.clientId, sessionId: sessionId(c.req.param("id")), deleted: true });
      return c.json({ ok: true });
    })
    .post("/:id/restore", async (c) => {
      await chat.deleteSession({ clientId: c.var.clientId, sessionId: sessionId(c.req.param("id")), deleted: false });
      return c.json({ ok: true });
    })
    // The page of the thread above a message the browser has: older messages as the person scrolls up.
    .get("/:id/messages", timing({ totalDescription: "read" }), async (c) => {
      const id = sessionId(c.req.param("id"));
      const q = validate(pageQuery, c.req.query());
      return c.json(await chat.olderMessages({ clientId: c.var.clientId, sessionId: id, before: q.before, limit: q.limit }));
    })
    .post("/:id/messages", deps.limit, async (c) => {
      const id = sessionId(c.req.param("id"));
      const body = await readJson(c, sendMessageBody);
      const { userMessage, reply } = await chat.sendMessage({
        clientId: c.var.clientId,
        sessionId: id,
        content: body.content,
        signal: clientGone(c),
      });
      return streamReply(c, reply, userMessage, log);
    })
    .post("/:id/regenerate", deps.limit, async (c) => {
      const id = sessionId(c.req.param("id"));
      const { reply } = await chat.regenerate({ clientId: c.var.clientId, sessionId: id, signal: clientGone(c) });
      return streamReply(c, reply, undefined, log);
    })
    // A swipe: another reply beside this one, wherever it is in the thread.
    .post("/:id/messages/:messageId/regenerate", deps.limit, async (c) => {
      const id = sessionId(c.req.param("id"));
      const { reply } = await chat.regenerate({ clientId: c.var.clientId, sessionId: id, messageId: messageId(c.req.param("messageId")), signal: clientGone(c) });
      return streamReply(c, reply, undefined, log);
    })
    // An edit is a new version beside the message. The person's own message wants an answer, so
    // its edit streams the reply like a new message; a character's line edited answers the thread.
    .post("/:id/messages/:messageId/edit", deps.limit, async (c) => {
      const id = sessionId(c.req.param("id"));
      const body = await readJson(c, sendMessageBody);
      const message = await chat.messageFor(c.var.clientId, id, messageId(c.req.param("messageId")));
      if (message.role === "assistant") {
        return c.json({ session: await chat.editReply({ clientId: c.var.clientId, sessionId: id, message, content: body.content }) });
      }
      const { userMessage, reply } = await chat.editAndReply({ clientId: c.var.clientId, sessionId: id, message, content: body.content, signal: clientGone(c) });
      return streamReply(c, reply, userMessage, log);
    })
    .delete("/:id/messages/:messageId", async (c) => {
      const id = sessionId(c.req.param("id"));
      return c.json({ session: await chat.deleteMessage({ clientId: c.var.clientId, sessionId: id, messageId: messageId(c.req.param("messageId")) }) });
    })
    .post("/:id/messages/:messageId/restore", async (c) => {
      const id = sessionId(c.req.param("id"));
      return c.json({ session: await chat.restoreMessage({ clientId: c.var.clientId, sessionId: id, messageId: messageId(c.req.param("messageId")) }) });
    })
    // "Continue in a new conversation from here": counted like creating a session.
    // Practice: a coach's hint for the next message, and the debrief (each run kept; listed oldest first).
    .post("/:id/hint", deps.limit, async (c) =>
      c.json(await deps.practice.hint({ clientId: c.var.clientId, sessionId: sessionId(c.req.param("id")), signal: clientGone(c) }).catch(rethrow)),
    )
    .post("/:id/debrief", deps.limit, async (c) =>
      c.json(
        { debrief: await deps.practice.debrief({ clientId: c.var.clientId, sessionId: sessionId(c.req.param("id")), signal: clientGone(c) }).catch(rethrow) },
        201,
      ),
    )
    .get("/:id/debriefs", async (c) => c.json({ debriefs: await deps.practice.debriefs(c.var.clientId, sessionId(c.req.param("id"))) }))
    // What the model saw for one reply: the character's owner only (an admin: /api/admin).
    .get("/:id/messages/:messageId/prompt", async (c) =>
      c.json(await chat.promptReport({ clientId: c.var.clientId }, sessionId(c.req.param("id")), messageId(c.req.param("messageId")))),
    )
    .post("/:id/messages/:messageId/fork", deps.limitCreate, async (c) => {
      const id = sessionId(c.req.param("id"));
      return c.json({ session: await chat.forkAt({ clientId: c.var.clientId, sessionId: id, messageId: messageId(c.req.param("messageId")) }) }, 201);
    })
    // Switch to another version of a message: the thread then runs through it.
    .post("/:id/messages/:messageId/select", async (c) => {
      const id = sessionId(c.req.param("id"));
      const session = await chat.selectMessage({ clientId: c.var.clientId, sessionId: id, messageId: messageId(c.req.param("messageId")) });
      return c.json({ session });
    });
}
