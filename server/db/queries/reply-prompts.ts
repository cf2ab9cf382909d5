import { and, eq, inArray, isNull } from "drizzle-orm";
import type { PromptReport } from "../../../contracts/prompt-report.js";
import type { Database } from "../client.js";
import { messages, replyPrompts, scenarios, sessions } from "../schema.js";

export async function saveReplyPrompt(db: Database, messageId: string, report: PromptReport): Promise<void> {
  await db.insert(replyPrompts).values({ messageId, report }).onConflictDoUpdate({ target: replyPrompts.messageId, set: { report } });
}

/**
 * A reply's report, with who may see it: the session's client when the character is their own;
 * `clientId` undefined (an admin) sees any. Undefined when there is no such reply for them.
 */
export async function getReplyPrompt(db: Database, sessionId: string, messageId: string, clientId: string | undefined) {
  const [row] = await db
    .select({ report: replyPrompts.report, ownerClientId: scenarios.ownerClientId })
    .from(messages)
    .innerJoin(sessions, eq(sessions.id, messages.sessionId))
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .leftJoin(replyPrompts, eq(replyPrompts.messageId, messages.id))
    .where(
      and(
        eq(messages.id, messageId),
        eq(messages.sessionId, sessionId),
        ...(clientId === undefined ? [] : [eq(sessions.clientId, clientId), isNull(sessions.deletedAt)]),
      ),
    )
    .limit(1);
  return row;
}

/** The texts of the history a report refers to. */
export async function messageTexts(db: Database, sessionId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: messages.id, content: messages.content })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), inArray(messages.id, ids)));
  return new Map(rows.map((r) => [r.id, r.content]));
}
