import type { CardLorebook } from "../../../contracts/character-card.js";
import { lorebooksJson } from "./lorebooks.js";
import { latestScore } from "./practice.js";
import { and, asc, desc, eq, getTableColumns, inArray, isNull, or, sql } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import type { Database } from "../client.js";
import { prebuilt, rowsOf } from "../prebuilt.js";
import { messages, personas, scenarios, sessions, type MessageRow, type NewMessageRow, type ScenarioRow } from "../schema.js";
import type { Persona } from "../../../contracts/persona.js";
import type { SessionSummaryView } from "../../views.js";
import { publicScenarioColumns } from "./scenarios.js";
import type { MessageRole } from "../../../contracts/enums.js";
import { merge } from "../../merge.js";

/** A session with its opening message, written together so a session never exists without it. */
export async function createSession(
  db: Database,
  input: { clientId: string; scenarioId: string; openingMessage: string; alternateGreetings?: string[] },
) {
  return db.transaction(async (tx) => {
    const [session] = await tx
      .insert(sessions)
      .values({ clientId: input.clientId, scenarioId: input.scenarioId })
      .returning();
    await insertMessage(tx, {
      sessionId: session!.id,
      parentId: null,
      role: "assistant",
      content: input.openingMessage,
      finishReason: "opening",
    });
    // A card's alternate greetings: versions of the opening to swipe to; the thread starts at the first.
    const alternates = (input.alternateGreetings ?? []).filter((g) => g.trim() !== "");
    if (alternates.length > 0) {
      await tx.insert(messages).values(alternates.map((content) => ({ sessionId: session!.id, parentId: null, role: "assistant" as const, content, finishReason: "opening" })));
    }
    return session!;
  });
}

/** The session if, and only if, it belongs to this client: another client's session is "not found". */
export async function getOwnedSession(db: Database, id: string, clientId: string) {
  const [row] = await db
    .select({
      session: sessions,
      scenario: publicScenarioColumns,
      ownCharacter: sql<boolean>`${scenarios.ownerClientId} is not null`,
      // Which models a reply here would go to (the scenario's own task and model, when an admin set them).
      routing: { task: scenarios.task, modelKey: scenarios.modelKey },
    })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId), isNull(sessions.deletedAt)))
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
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId), isNull(sessions.deletedAt)))
    .limit(1);
  return row;
}

/** The lorebooks the card's prompt draws on (none without a card). */
const claimedLorebooks = sql<CardLorebook[]>`case when ${scenarios.card} is null then '[]'::jsonb else ${lorebooksJson} end`;
/** Who the person is here: the conversation's own persona, else their usual one (null: none set). */
const claimedPersona = sql<Persona | null>`coalesce(${sessions.persona}, (select jsonb_build_object('name', ${personas.name}, 'description', ${personas.description}) from ${personas} where ${personas.clientId} = ${sessions.clientId}))`;

/** What a reply needs of its session and scenario, read by the statement that claims it. */
export type ClaimedSession = {
  sessionId: string;
  systemPrompt: string;
  task: ScenarioRow["task"];
  modelKey: string | null;
  characterName: string;
  /** The character card the scenario came from, if any: its prompt replaces the system prompt's. */
  card: ScenarioRow["card"];
  /** The lorebooks the card's prompt draws on (none without a card). */
  lorebooks: CardLorebook[];
  /** The thread's leaf before this claim (the new message's parent, when one came with it). */
  leafId: string | null;
  /** Who the person is here: the conversation's own persona, else their usual one (null: none set). */
  persona: Persona | null;
  /** The previous claim was never released (its instance died mid-reply). */
  lapsedClaim: boolean;
};

const col = (c: { name: string }) => sql.identifier(c.name); // SET and INSERT take bare column names

/**
 * The claim itself, as the CTE "claimed": the session taken for `holdMs` if no claim holds it, with
 * what the reply needs. It joins the row as it was before the update (a self-join sees the old
 * values): its leaf, and whether a claim was left behind. `moveLeaf` also moves the thread's leaf
 * (to the message the same statement writes, placeholder `id`). Values are placeholders:
 * `sessionId`, `clientId`, `instanceId`, `holdS`.
 */
function claimedCte(moveLeaf: boolean) {
  const leaf = moveLeaf ? sql`, ${col(sessions.updatedAt)} = now(), ${col(sessions.leafId)} = ${sql.placeholder("id")}` : sql``;
  return sql`"claimed" as (
      update ${sessions} set ${col(sessions.replyingUntil)} = now() + make_interval(secs => ${sql.placeholder("holdS")}),
        ${col(sessions.replyingInstance)} = ${sql.placeholder("instanceId")}${leaf}
      from ${scenarios}, ${sessions} as "before"
      where "before"."id" = ${sessions.id} and ${sessions.id} = ${sql.placeholder("sessionId")} and ${sessions.clientId} = ${sql.placeholder("clientId")}
        and ${sessions.deletedAt} is null and ${scenarios.id} = ${sessions.scenarioId}
        and (${sessions.replyingUntil} is null or ${sessions.replyingUntil} < now())
      returning ${sessions.id} as "session_id", ${scenarios.systemPrompt} as "system_prompt", ${scenarios.task} as "task",
        ${scenarios.modelKey} as "model_key", ${scenarios.characterName} as "character_name", ${scenarios.card} as "card",
        ${claimedLorebooks} as "lorebooks", ${claimedPersona} as "persona",
        "before"."leaf_id" as "leaf_id", "before"."replying_until" is not null as "lapsed_claim"
    )`;
}

type ClaimValues = { sessionId: string; clientId: string; instanceId: string; holdS: number };
const claimStatement = prebuilt<ClaimValues>(() => sql`with ${claimedCte(false)} select * from "claimed"`);
const claimAndAddStatement = prebuilt<ClaimValues & { id: string; content: string }>(
  () => sql`with ${claimedCte(true)}, "added" as (
      insert into ${messages} (${col(messages.id)}, ${col(messages.sessionId)}, ${col(messages.parentId)}, ${col(messages.role)}, ${col(messages.content)})
      select ${sql.placeholder("id")}, "session_id", "leaf_id", 'user', ${sql.placeholder("content")} from "claimed"
      returning *
    ) select "claimed".*, to_jsonb("added".*) as "message" from "claimed", "added"`,
);

/** The claim's row as a ClaimedSession; what a lapsed claim's instance was writing is marked interrupted. */
async function claimedFrom(db: Database, row: Record<string, unknown>): Promise<ClaimedSession> {
  const owned: ClaimedSession = {
    sessionId: row.session_id as string,
    systemPrompt: row.system_prompt as string,
    task: row.task as ClaimedSession["task"],
    modelKey: row.model_key as string | null,
    characterName: row.character_name as string,
    card: row.card as ClaimedSession["card"],
    lorebooks: row.lorebooks as CardLorebook[],
    leafId: row.leaf_id as string | null,
    persona: row.persona as Persona | null,
    lapsedClaim: Boolean(row.lapsed_claim),
  };
  if (owned.lapsedClaim) await markInterrupted(db, owned.sessionId);
  return owned;
}

/**
 * Claims the client's session for one reply, on whichever instance asks, and returns what the
 * reply needs, in one statement: undefined when the session is not theirs or another reply is
 * under way (getOwnedSessionForReply tells which). The claim is short and renewed while the reply
 * runs, so one whose instance died lapses within seconds.
 */
export async function claimSessionForReply(db: Database, id: string, clientId: string, instanceId: string, holdMs: number): Promise<ClaimedSession | undefined> {
  const [row] = await claimStatement(db, { sessionId: id, clientId, instanceId, holdS: holdMs / 1000 });
  return row ? claimedFrom(db, row) : undefined;
}

/**
 * The claim and the person's new message in one statement (one round trip, on the way to every
 * reply's first token): the session is claimed as `claimSessionForReply` claims it, moved to the new
 * message, and the message written below what was its leaf. Nothing is written unless the claim is
 * won, since the insert reads the claim's own result. Undefined when the claim is not won.
 */
export async function claimAndAddMessage(
  db: Database,
  input: { sessionId: string; clientId: string; instanceId: string; holdMs: number; content: string },
): Promise<{ owned: ClaimedSession; message: MessageRow } | undefined> {
  const [row] = await claimAndAddStatement(db, {
    sessionId: input.sessionId,
    clientId: input.clientId,
    instanceId: input.instanceId,
    holdS: input.holdMs / 1000,
    id: randomUUID(),
    content: input.content,
  });
  if (!row) return undefined;
  return { owned: await claimedFrom(db, row), message: toMessageRow(row.message as Record<string, unknown>) };
}

const renewStatement = prebuilt<{ id: string; instanceId: string; holdS: number }>(
  () => sql`update ${sessions} set ${col(sessions.replyingUntil)} = now() + make_interval(secs => ${sql.placeholder("holdS")})
    where ${sessions.id} = ${sql.placeholder("id")} and ${sessions.replyingInstance} = ${sql.placeholder("instanceId")}`,
);
const releaseStatement = prebuilt<{ id: string; instanceId: string }>(
  () => sql`update ${sessions} set ${col(sessions.replyingUntil)} = null, ${col(sessions.replyingInstance)} = null
    where ${sessions.id} = ${sql.placeholder("id")} and ${sessions.replyingInstance} = ${sql.placeholder("instanceId")}`,
);

/** Keeps this instance's claim alive while its reply runs. */
export async function renewClaim(db: Database, id: string, instanceId: string, holdMs: number): Promise<void> {
  await renewStatement(db, { id, instanceId, holdS: holdMs / 1000 });
}

/** Releases the claim if this instance still holds it (one that lapsed may be another's by now). */
export async function releaseReply(db: Database, id: string, instanceId: string): Promise<void> {
  await releaseStatement(db, { id, instanceId });
}

/** Replies a dead instance was writing: kept as far as they were saved, marked interrupted. */
async function markInterrupted(db: Database, sessionId: string): Promise<void> {
  await db
    .update(messages)
    .set({ finishReason: "interrupted", error: "The server stopped while this reply was being written" })
    .where(and(eq(messages.sessionId, sessionId), eq(messages.finishReason, "streaming")));
}

/**
 * At start-up: the claims this instance held before it stopped are released, and their half-written
 * replies marked interrupted. `everyone`: the embedded database has one process, so any claim is stale.
 */
export async function clearStaleClaims(db: Database, instanceId: string, everyone: boolean): Promise<number> {
  const stale = await db
    .update(sessions)
    .set({ replyingUntil: null, replyingInstance: null })
    .where(everyone ? sql`${sessions.replyingUntil} is not null` : eq(sessions.replyingInstance, instanceId))
    .returning({ id: sessions.id });
  for (const s of stale) await markInterrupted(db, s.id);
  return stale.length;
}

/**
 * A reply's row, inserted at its first save while it streams (finish reason `streaming`) or at its
 * end; a regenerate's old reply is superseded in the same transaction.
 */
export async function insertReply(db: Database, row: NewMessageRow, replaces: string | undefined): Promise<MessageRow> {
  return db.transaction(async (tx) => {
    if (replaces) await supersedeMessage(tx, replaces);
    return insertMessage(tx, row);
  });
}

/** The text so far of a reply being written. */
export async function updateStreamingReply(db: Database, id: string, content: string): Promise<void> {
  await db.update(messages).set({ content }).where(eq(messages.id, id));
}

/** The reply as it ended: the row written while streaming, completed. */
export async function completeReply(db: Database, id: string, row: Partial<NewMessageRow>): Promise<MessageRow> {
  const [updated] = await db.update(messages).set(row).where(eq(messages.id, id)).returning();
  return updated!;
}

/**
 * The path up from `fromId`: it and its ancestors, oldest first. Messages form a tree (a
 * regenerated reply, swipes and edits are siblings), so a thread is one walk from its leaf up.
 * Bounded walks read only what is needed: `maxCount` messages (a page), `maxChars` of text (a
 * prompt), or up to `stopAt` (is it on the path?). Unbounded, it is the whole thread (a fork).
 */
export async function activePath(
  db: Database,
  sessionId: string,
  fromId: string,
  opts: { maxChars?: number; maxCount?: number; stopAt?: string } = {},
): Promise<MessageRow[]> {
  // In steps of WALK_STEP messages, each its own statement: the embedded engine runs a statement on
  // this process's event loop, so a long walk in one would stall every other stream meanwhile.
  const newestFirst: MessageRow[] = [];
  let next: string | null = fromId;
  let chars = 0;
  while (next) {
    const left = opts.maxCount === undefined ? WALK_STEP : Math.min(WALK_STEP, opts.maxCount - newestFirst.length);
    const ids = await pathIds(db, sessionId, next, merge(opts, { maxCount: left, maxChars: opts.maxChars === undefined ? undefined : opts.maxChars - chars }));
    if (ids.length === 0) break;
    // By primary key: reading the ids first keeps the walk from scanning the session's other messages.
    const rows = await db.select().from(messages).where(inArray(messages.id, ids));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const step = ids.flatMap((id) => byId.get(id) ?? []);
    newestFirst.push(...step);
    chars += step.reduce((n, m) => n + m.content.length, 0);
    const last = step.at(-1);
    const done =
      ids.length < left ||
      !last?.parentId ||
      (opts.stopAt !== undefined && last.id === opts.stopAt) ||
      (opts.maxChars !== undefined && chars >= opts.maxChars) ||
      (opts.maxCount !== undefined && newestFirst.length >= opts.maxCount);
    next = done ? null : last.parentId;
    if (next) await new Promise((resolve) => setImmediate(resolve));
  }
  return newestFirst.reverse();
}

const WALK_STEP = 200;

/** The ids of the path up from `fromId`, newest first, within the walk's bounds. */
async function pathIds(db: Database, sessionId: string, fromId: string, opts: { maxChars?: number; maxCount?: number; stopAt?: string }): Promise<string[]> {
  const bounds = [
    opts.maxChars === undefined ? undefined : sql`"path"."chars" < ${opts.maxChars}`,
    opts.maxCount === undefined ? undefined : sql`"path"."depth" < ${opts.maxCount}`,
    opts.stopAt === undefined ? undefined : sql`"path"."id" <> ${opts.stopAt}`,
  ].filter((b) => b !== undefined);
  const bound = bounds.length ? sql`WHERE ${sql.join(bounds, sql` AND `)}` : sql``;
  const result = await db.execute<{ id: string }>(sql`WITH RECURSIVE "path"("id", "parent_id", "chars", "depth") AS (
      SELECT "id", "parent_id", length("content"), 1 FROM "messages" WHERE "id" = ${fromId} AND "session_id" = ${sessionId}
      UNION ALL
      SELECT "m"."id", "m"."parent_id", "path"."chars" + length("m"."content"), "path"."depth" + 1
      FROM "messages" "m" JOIN "path" ON "m"."id" = "path"."parent_id" ${bound}
    ) SELECT "id" FROM "path" ORDER BY "depth"`);
  return rowsOf<{ id: string }>(result).map((r) => r.id);
}

/** What a prompt needs of a message of its thread. */
export type HistoryRow = Pick<MessageRow, "id" | "parentId" | "role" | "content" | "tokenCounts">;

/**
 * The thread up from `fromId` as a prompt reads it (oldest first, within `maxChars` of text): only
 * the columns a prompt needs, carried by the walk itself, in steps of HISTORY_STEP messages. A long
 * story's first reply reads ~2,000 messages; reading whole rows in `activePath`'s 200-message steps
 * took ~130 ms on PGlite, most of it decoding columns the prompt never uses.
 */
export async function historyPath(db: Database, sessionId: string, fromId: string, maxChars: number): Promise<HistoryRow[]> {
  const newestFirst: HistoryRow[] = [];
  let next: string | null = fromId;
  let chars = 0;
  while (next) {
    const result: unknown = await db.execute(sql`WITH RECURSIVE "path"("id", "parent_id", "role", "content", "token_counts", "chars", "depth") AS (
        SELECT "id", "parent_id", "role", "content", "token_counts", length("content"), 1 FROM "messages" WHERE "id" = ${next} AND "session_id" = ${sessionId}
        UNION ALL
        SELECT "m"."id", "m"."parent_id", "m"."role", "m"."content", "m"."token_counts", "path"."chars" + length("m"."content"), "path"."depth" + 1
        FROM "messages" "m" JOIN "path" ON "m"."id" = "path"."parent_id"
        WHERE "path"."chars" < ${maxChars - chars} AND "path"."depth" < ${HISTORY_STEP}
      ) SELECT "id", "parent_id", "role", "content", "token_counts" FROM "path" ORDER BY "depth"`);
    const step: RawHistoryRow[] = rowsOf<RawHistoryRow>(result);
    for (const r of step) {
      // A driver that leaves jsonb as text (postgres.js through drizzle's raw execute) hands a string.
      const counts = typeof r.token_counts === "string" ? (JSON.parse(r.token_counts) as unknown) : r.token_counts;
      newestFirst.push({ id: r.id, parentId: r.parent_id, role: r.role, content: r.content, tokenCounts: (counts ?? {}) as HistoryRow["tokenCounts"] });
      chars += r.content.length;
    }
    const last = newestFirst.at(-1);
    next = step.length === HISTORY_STEP && last?.parentId && chars < maxChars ? last.parentId : null;
  }
  return newestFirst.reverse();
}

type RawHistoryRow = { id: string; parent_id: string | null; role: MessageRow["role"]; content: string; token_counts: unknown };

/** Messages a step of `historyPath` reads: its result crosses to the main thread in one piece (~400 KB at most for prose). */
const HISTORY_STEP = 1_000;

/** Whether `id` is on the thread that ends at `leafId`: the walk up stops once it is found. */
export async function isOnPath(db: Database, sessionId: string, leafId: string, id: string): Promise<boolean> {
  const walked = await activePath(db, sessionId, leafId, { stopAt: id });
  return walked[0]?.id === id;
}

/**
 * The siblings of each message on a page of a thread (itself included), in the order they were
 * written, for the messages that have any: the swipes of a reply, the versions of an edited message.
 */
export async function siblingsOf(db: Database, sessionId: string, page: Pick<MessageRow, "id" | "parentId">[]): Promise<Map<string, string[]>> {
  if (page.length === 0) return new Map();
  // Only the page's parents are looked at (through the parent index), so a page costs the same
  // however long the thread. The opening message's versions share the NULL parent.
  const parents = [...new Set(page.map((m) => m.parentId).filter((p): p is string => p !== null))];
  const roots = page.some((m) => m.parentId === null);
  const groups = await db
    .select({ parentId: messages.parentId, ids: sql<string[]>`array_agg(${messages.id} order by ${messages.seq})` })
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, sessionId),
        isNull(messages.deletedAt),
        or(
          parents.length ? inArray(messages.parentId, parents) : sql`false`,
          roots ? isNull(messages.parentId) : sql`false`,
        ),
      ),
    )
    .groupBy(messages.parentId)
    .having(sql`count(*) > 1`);
  const byParent = new Map(groups.map((g) => [g.parentId, g.ids]));
  const out = new Map<string, string[]>();
  for (const m of page) {
    const group = byParent.get(m.parentId);
    if (group) out.set(m.id, group);
  }
  return out;
}

/** The newest message at or below `id` on any branch: where switching to `id` brings the person back to. */
export async function newestBelow(db: Database, sessionId: string, id: string): Promise<string | undefined> {
  const below = sql`WITH RECURSIVE "below"("id") AS (
      SELECT "id" FROM "messages" WHERE "id" = ${id} AND "session_id" = ${sessionId} AND "deleted_at" IS NULL
      UNION ALL
      SELECT "m"."id" FROM "messages" "m" JOIN "below" ON "m"."parent_id" = "below"."id" WHERE "m"."deleted_at" IS NULL
    ) SELECT "id" FROM "below"`;
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), sql`${messages.id} IN (${below})`))
    .orderBy(desc(messages.seq))
    .limit(1);
  return row?.id;
}

/** Deletes a message softly (what hangs below it goes with it) or restores it. */
export async function markDeleted(db: Database, sessionId: string, id: string, deleted: boolean): Promise<void> {
  await db
    .update(messages)
    .set({ deletedAt: deleted ? sql`now()` : null })
    .where(and(eq(messages.sessionId, sessionId), eq(messages.id, id)));
}

/** The newest live sibling of a message (not itself): where the thread goes when it is deleted. */
export async function newestSibling(db: Database, m: Pick<MessageRow, "id" | "sessionId" | "parentId">): Promise<string | undefined> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, m.sessionId),
        m.parentId ? eq(messages.parentId, m.parentId) : isNull(messages.parentId),
        isNull(messages.deletedAt),
        sql`${messages.id} <> ${m.id}`,
      ),
    )
    .orderBy(desc(messages.seq))
    .limit(1);
  return row?.id;
}

/** Deleted messages and conversations older than `days` are removed for good, with everything below them. */
export async function purgeDeleted(db: Database, days: number): Promise<{ messages: number; sessions: number }> {
  const goneSessions = await db
    .delete(sessions)
    .where(sql`${sessions.deletedAt} < now() - make_interval(days => ${days})`)
    .returning({ id: sessions.id });
  const gone = await db
    .delete(messages)
    .where(sql`${messages.deletedAt} < now() - make_interval(days => ${days})`)
    .returning({ id: messages.id });
  return { messages: gone.length, sessions: goneSessions.length };
}

/**
 * A new session of the same client and scenario holding a copy of `path` (oldest first) as its
 * thread: "continue in a new conversation from here". The copies are a chain; the original is untouched.
 */
export async function forkSession(db: Database, input: { clientId: string; scenarioId: string; path: MessageRow[] }) {
  return db.transaction(async (tx) => {
    const [session] = await tx.insert(sessions).values({ clientId: input.clientId, scenarioId: input.scenarioId }).returning();
    const ids = input.path.map(() => randomUUID());
    const copies: NewMessageRow[] = input.path.map((m, i) => ({
      id: ids[i],
      sessionId: session!.id,
      parentId: i === 0 ? null : ids[i - 1]!,
      role: m.role,
      content: m.content,
      finishReason: m.finishReason === "streaming" ? "interrupted" : m.finishReason,
      provider: m.provider,
      model: m.model,
      promptTokens: m.promptTokens,
      completionTokens: m.completionTokens,
      ttftMs: m.ttftMs,
      totalMs: m.totalMs,
      error: m.error,
      editedAt: m.editedAt,
    }));
    // In batches: one statement per few hundred rows keeps a long thread's copy to a few round trips.
    for (let i = 0; i < copies.length; i += 500) await tx.insert(messages).values(copies.slice(i, i + 500));
    await tx.update(sessions).set({ leafId: ids.at(-1) ?? null }).where(eq(sessions.id, session!.id));
    return session!;
  });
}

/** Remembers where the person was below a version of a message, as they switch away from it. */
export async function setLastLeaf(db: Database, id: string, leafId: string): Promise<void> {
  await db.update(messages).set({ lastLeafId: leafId }).where(eq(messages.id, id));
}

/**
 * The live children of each parent given (roots when null is among them), oldest first: a reply's
 * swipes, an edit's versions. In batches, so a whole long thread can be asked about.
 */
export async function childrenOf(db: Database, sessionId: string, parentIds: (string | null)[]): Promise<Map<string | null, Pick<MessageRow, "id" | "content">[]>> {
  const out = new Map<string | null, Pick<MessageRow, "id" | "content">[]>();
  const ids = [...new Set(parentIds.filter((p): p is string => p !== null))];
  const batches: (typeof ids)[] = [];
  for (let i = 0; i < ids.length; i += 500) batches.push(ids.slice(i, i + 500));
  const lookups = [...batches.map((b) => inArray(messages.parentId, b)), ...(parentIds.includes(null) ? [isNull(messages.parentId)] : [])];
  for (const where of lookups) {
    const rows = await db
      .select({ id: messages.id, parentId: messages.parentId, content: messages.content })
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), isNull(messages.deletedAt), where))
      .orderBy(asc(messages.seq));
    for (const r of rows) {
      const list = out.get(r.parentId) ?? [];
      list.push({ id: r.id, content: r.content });
      out.set(r.parentId, list);
    }
  }
  return out;
}

/**
 * A new conversation of the client holding an imported thread: each message follows the one
 * before it, and a message's other versions (a reply's swipes) stand beside it. One transaction:
 * a file that fails halfway creates nothing.
 */
export async function importThread(
  db: Database,
  input: { clientId: string; scenarioId: string; title: string | null; thread: { role: MessageRole; content: string; createdAt: Date; versions?: { contents: string[]; chosen: number } }[] },
) {
  return db.transaction(async (tx) => {
    const [session] = await tx.insert(sessions).values({ clientId: input.clientId, scenarioId: input.scenarioId, title: input.title }).returning();
    const rows: NewMessageRow[] = [];
    let parentId: string | null = null;
    input.thread.forEach((m, i) => {
      const finishReason = m.role === "user" ? null : i === 0 ? "opening" : "stop";
      const contents = m.versions?.contents ?? [m.content];
      const chosen = m.versions?.chosen ?? 0;
      let next: string | null = null;
      contents.forEach((content, v) => {
        const id = randomUUID();
        rows.push({ id, sessionId: session!.id, parentId, role: m.role, content, finishReason, createdAt: m.createdAt });
        if (v === chosen) next = id;
      });
      parentId = next;
    });
    for (let i = 0; i < rows.length; i += 500) await tx.insert(messages).values(rows.slice(i, i + 500));
    await tx.update(sessions).set({ leafId: parentId }).where(eq(sessions.id, session!.id));
    return session!;
  });
}

/** Token counts taken for messages (per tokenizer), added to those they had. */
export async function saveTokenCounts(db: Database, counts: { id: string; tokenizer: string; tokens: number }[]): Promise<void> {
  for (let i = 0; i < counts.length; i += 500) {
    const values = counts.slice(i, i + 500).map((c) => sql`(${c.id}::uuid, jsonb_build_object(${c.tokenizer}::text, ${c.tokens}::int))`);
    await db.execute(sql`UPDATE "messages" SET "token_counts" = "messages"."token_counts" || "v"."c"
      FROM (VALUES ${sql.join(values, sql`, `)}) AS "v"("id", "c") WHERE "messages"."id" = "v"."id"`);
  }
}

/** Moves the session's active path to end at `leafId`. */
export async function setLeaf(db: Database, sessionId: string, leafId: string): Promise<void> {
  await db.update(sessions).set({ leafId, updatedAt: sql`now()` }).where(eq(sessions.id, sessionId));
}

/** A message of the session, with what a tree change needs to know of it; a deleted one only when asked for. */
export async function getMessage(db: Database, sessionId: string, id: string, opts: { deleted?: boolean } = {}): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.id, id), opts.deleted ? sql`${messages.deletedAt} is not null` : isNull(messages.deletedAt)));
  return row;
}

/** Drizzle's row from one the driver returned by column name (for a statement drizzle cannot build). */
const messageColumns = Object.entries(getTableColumns(messages));
const toMessageRow = (raw: Record<string, unknown>): MessageRow =>
  Object.fromEntries(messageColumns.map(([key, col]) => [key, raw[col.name] == null ? null : col.mapFromDriverValue(raw[col.name])])) as MessageRow;

/**
 * Adds a message at the end of the active path: it becomes the session's leaf. One statement, one
 * round trip (it is on the way to every reply's first token): the session is moved to the message
 * in a CTE, its foreign key checked at the statement's end, when the message exists.
 */
export async function insertMessage(db: Database, row: NewMessageRow): Promise<MessageRow> {
  const id = row.id ?? randomUUID();
  const touch = sql`update ${sessions} set ${col(sessions.updatedAt)} = now(), ${col(sessions.leafId)} = ${id} where ${sessions.id} = ${row.sessionId}`;
  const insert = db.insert(messages).values(merge(row, { id })).returning().getSQL();
  const [inserted] = rowsOf<Record<string, unknown>>(await db.execute(sql`with "touched" as (${touch}) ${insert}`));
  return toMessageRow(inserted!);
}

export async function supersedeMessage(db: Database, id: string): Promise<void> {
  await db.update(messages).set({ supersededAt: sql`now()` }).where(eq(messages.id, id));
}

/** LIKE's own characters in a search text, escaped so they match themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A client's conversations, most recently active first, with their scenario's public face, a title
 * (the person's, or the first thing they said), the thread's last line and how many messages it
 * holds. `search` keeps those where any message, the title or the scenario holds the text.
 */
export function listClientSessions(db: Database, clientId: string, opts: { limit?: number; search?: string } = {}): Promise<SessionSummaryView[]> {
  const firstLine = sql<string | null>`(select left(${messages.content}, 80) from ${messages}
    where ${messages.sessionId} = ${sessions.id} and ${messages.role} = 'user' and ${messages.deletedAt} is null order by ${messages.seq} limit 1)`;
  const pattern = opts.search ? likePattern(opts.search) : undefined;
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      updatedAt: sessions.updatedAt,
      title: sessions.title,
      defaultTitle: firstLine,
      scenario: { slug: scenarios.slug, title: scenarios.title, characterName: scenarios.characterName, avatarStyle: scenarios.avatarStyle, avatarSeed: scenarios.avatarSeed },
      lastMessage: sql<string | null>`left(${messages.content}, 160)`,
      messageCount: sql<number>`(select count(*)::int from ${messages} "c" where "c"."session_id" = ${sessions.id} and "c"."deleted_at" is null)`,
      lastScore: latestScore,
    })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .leftJoin(messages, eq(messages.id, sessions.leafId))
    .where(
      and(
        eq(sessions.clientId, clientId),
        isNull(sessions.deletedAt),
        pattern
          ? or(
              sql`${sessions.title} ilike ${pattern}`,
              sql`${scenarios.title} ilike ${pattern}`,
              sql`${scenarios.characterName} ilike ${pattern}`,
              sql`exists (select 1 from ${messages} "f" where "f"."session_id" = ${sessions.id} and "f"."deleted_at" is null and "f"."content" ilike ${pattern})`,
            )
          : undefined,
      ),
    )
    .orderBy(desc(sessions.updatedAt))
    .limit(opts.limit ?? 200);
}

/**
 * Changes what the person may change of a conversation: its title (null: back to the default) and
 * its own persona (null: their usual one). False when it is not theirs.
 */
export async function updateSession(db: Database, id: string, clientId: string, change: { title?: string | null; persona?: Persona | null }): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set(change)
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId), isNull(sessions.deletedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Deletes (softly) or restores a client's conversation; false when there is no such one of theirs. */
export async function markSessionDeleted(db: Database, id: string, clientId: string, deleted: boolean): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ deletedAt: deleted ? sql`now()` : null })
    .where(and(eq(sessions.id, id), eq(sessions.clientId, clientId), deleted ? isNull(sessions.deletedAt) : sql`${sessions.deletedAt} is not null`))
    .returning({ id: sessions.id });
  return rows.length > 0;
}
