import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import type { DebriefView } from "../../../contracts/practice.js";
import type { Database } from "../client.js";
import { debriefs, scenarios, sessions } from "../schema.js";

/**
 * What a hint or a debrief needs of a conversation: the scenario's objectives and (for the
 * evaluator alone) their rubrics, the thread's end. Undefined when the session is not the client's.
 */
export async function practiceContext(db: Database, sessionId: string, clientId: string) {
  const [row] = await db
    .select({
      sessionId: sessions.id,
      leafId: sessions.leafId,
      scenarioId: scenarios.id,
      title: scenarios.title,
      characterName: scenarios.characterName,
      description: scenarios.description,
      objectives: scenarios.objectives,
      rubrics: scenarios.rubrics,
      turnLimit: scenarios.turnLimit,
      difficulty: scenarios.difficulty,
    })
    .from(sessions)
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(and(eq(sessions.id, sessionId), eq(sessions.clientId, clientId), isNull(sessions.deletedAt)))
    .limit(1);
  return row;
}

export async function insertDebrief(db: Database, values: { sessionId: string; leafId: string | null; score: number; result: Omit<DebriefView, "id" | "createdAt" | "score"> }) {
  const [row] = await db.insert(debriefs).values(values).returning();
  return row!;
}

/** A conversation's debriefs, oldest first: each run kept. */
export function listDebriefs(db: Database, sessionId: string) {
  return db.select().from(debriefs).where(eq(debriefs.sessionId, sessionId)).orderBy(asc(debriefs.createdAt));
}

/** The client's attempts at a scenario: each conversation's latest debrief, oldest first. */
export function attemptsAt(db: Database, clientId: string, scenarioSlug: string) {
  return db
    .selectDistinctOn([debriefs.sessionId], { sessionId: debriefs.sessionId, debriefId: debriefs.id, createdAt: debriefs.createdAt, score: debriefs.score, result: debriefs.result })
    .from(debriefs)
    .innerJoin(sessions, eq(sessions.id, debriefs.sessionId))
    .innerJoin(scenarios, eq(scenarios.id, sessions.scenarioId))
    .where(and(eq(sessions.clientId, clientId), eq(scenarios.slug, scenarioSlug), isNull(sessions.deletedAt)))
    .orderBy(debriefs.sessionId, desc(debriefs.createdAt));
}

/**
 * Per scenario, over every conversation's latest debrief: the average score, how many, and how
 * often each objective was not fully met (for the admin's scenario list).
 */
export async function practiceStats(db: Database) {
  const latest = sql`(select distinct on (d.session_id) s.scenario_id, d.score, d.result
    from debriefs d join sessions s on s.id = d.session_id where s.deleted_at is null
    order by d.session_id, d.created_at desc) latest`;
  const scores = (await db.execute(sql`select scenario_id, avg(score)::float8 as average, count(*)::int as attempts from ${latest} group by scenario_id`)) as unknown;
  const missed = (await db.execute(
    sql`select scenario_id, o->>'objective' as objective, count(*)::int as missed from ${latest}, jsonb_array_elements(latest.result->'objectives') o
      where o->>'rating' <> 'met' group by 1, 2 order by 3 desc, 2`,
  )) as unknown;
  const rows = <T>(r: unknown) => (Array.isArray(r) ? r : (r as { rows: T[] }).rows) as T[];
  return {
    scores: rows<{ scenario_id: string; average: number; attempts: number }>(scores),
    missed: rows<{ scenario_id: string; objective: string; missed: number }>(missed),
  };
}

/** The score of each session's latest debrief, for the conversations list. */
export const latestScore = sql<number | null>`(select d.score from debriefs d where d.session_id = "sessions"."id" order by d.created_at desc limit 1)`;
