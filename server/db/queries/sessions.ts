import { and, asc, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../client.js";
import { messages, scenarios, sessions, type MessageRow, type NewMessageRow } from "../schema.js";
import { publicScenarioColumns } from "./scenarios.js";

/** A session with its opening message, written together so a session never exists without it. */
export async function createSession(
  db: Database,
  input: { clientId: string; scenarioId: string; openingMessage: string },
) {
  return db.transaction(async (tx) => {
    const [session] = await tx
      .insert(sessions)
      .values({ clientId: input.clientId, scenarioId: input.scenarioId })
      .returning();
    await tx.insert(messages).values({
      sessionId: session!.id,
      role: "assistant",
      content: input.openingMessage,
      finishReason: "opening",
    });
    return session!;
  });
}

/** The session if, and only if, it belongs to this client: another client's session is "not found". */
export async function getOwnedSession(db: Database, id: string, clientId: string) {
  const [row] = await db
    .select({ session: sessions, scenario: publicScenarioColumns })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId)))
    .limit(1);
  return row;
}

/**
 * Server-only, for a reply: ownership check and the scenario's private system prompt in one
 * round trip. The prompt goes to the model and nowhere else.
 */
export async function getOwnedSessionForReply(db: Database, id: string, clientId: string) {
  const [row] = await db
    .select({ sessionId: sessions.id, systemPrompt: scenarios.systemPrompt, task: scenarios.task, modelKey: scenarios.modelKey })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId)))
    .limit(1);
  return row;
}

/**
 * Claims the client's session for one reply, on whichever instance asks, and returns what the
 * reply needs, in one statement: undefined when the session is not theirs or another reply is
 * under way (getOwnedSessionForReply tells which). The claim lapses after `holdMs` by itself, so an
 * instance that dies mid-reply does not lock the conversation for good.
 */
export async function claimSessionForReply(db: Database, id: string, clientId: string, holdMs: number) {
  const [row] = await db
    .update(sessions)
    .set({ replyingUntil: sql`now() + make_interval(secs => ${holdMs / 1000})` })
    .from(scenarios)
    .where(
      and(
        eq(sessions.id, id),
        eq(sessions.clientId, clientId),
        eq(scenarios.id, sessions.scenarioId),
        or(isNull(sessions.replyingUntil), lt(sessions.replyingUntil, sql`now()`)),
      ),
    )
    .returning({ sessionId: sessions.id, systemPrompt: scenarios.systemPrompt, task: scenarios.task, modelKey: scenarios.modelKey });
  return row;
}

export async function releaseReply(db: Database, id: string): Promise<void> {
  await db.update(sessions).set({ replyingUntil: null }).where(eq(sessions.id, id));
}

/** The visible conversation: superseded replies stay in the table but not in the thread. */
export function listActiveMessages(db: Database, sessionId: string): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), isNull(messages.supersededAt)))
    .orderBy(asc(messages.seq));
}

export async function insertMessage(db: Database, row: NewMessageRow): Promise<MessageRow> {
  const [inserted] = await db.insert(messages).values(row).returning();
  await db.update(sessions).set({ updatedAt: sql`now()` }).where(eq(sessions.id, row.sessionId));
  return inserted!;
}

export async function supersedeMessage(db: Database, id: string): Promise<void> {
  await db.update(messages).set({ supersededAt: sql`now()` }).where(eq(messages.id, id));
}

/** A client's sessions, most recently active first, with their scenario's public face. */
export function listClientSessions(db: Database, clientId: string, limit = 200) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      updatedAt: sessions.updatedAt,
      scenario: { slug: scenarios.slug, title: scenarios.title, characterName: scenarios.characterName, avatarStyle: scenarios.avatarStyle, avatarSeed: scenarios.avatarSeed },
    })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(eq(sessions.clientId, clientId))
    .orderBy(desc(sessions.updatedAt))
    .limit(limit);
}
