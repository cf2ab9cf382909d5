import type { DebriefView, ProgressView } from "../../contracts/practice.js";
import { debriefAnswerSchema, jsonSchemaForDebrief, type DebriefAnswer, type Rubric } from "../../contracts/practice.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { attemptsAt, insertDebrief, listDebriefs, practiceContext } from "../db/queries/practice.js";
import { activePath } from "../db/queries/sessions.js";
import { AppError, badRequest, notFound } from "../errors.js";
import { GatewayError } from "../gateway/errors.js";
import type { Gateway } from "../gateway/gateway.js";
import type { Cancellation, ChatMessage } from "../gateway/types.js";
import type { Logger } from "../logger.js";

/** The most of a conversation a hint or a debrief reads (its newest part): far more than a practice session runs to. */
const TRANSCRIPT_MAX_CHARS = 60_000;
/**
 * The most of a refused answer sent back with the repair: a whole debrief is ~1.5 KB, and what runs
 * longer (prose, a model looping) would only crowd a small window without helping the correction.
 */
const REFUSED_ECHO_MAX_CHARS = 2_000;

type Line = { id: string; role: "user" | "assistant"; content: string };
type Context = NonNullable<Awaited<ReturnType<typeof practiceContext>>>;

/**
 * Practice that teaches: a coach's hint for the person's next message (the `coach` task, which never
 * sees the rubrics, so it cannot give them away), and a debrief of the conversation (the `evaluate`
 * task, asked for JSON that matches a schema, checked with zod, its quotes checked against what the
 * person wrote; one repair, then a clear error — never an invented or partial score).
 */
export function createPracticeService(deps: { database: DatabaseLifecycle; gateway: Gateway; log: Logger }) {
  async function load(clientId: string, sessionId: string) {
    const db = deps.database.require();
    const ctx = await practiceContext(db, sessionId, clientId);
    if (!ctx) throw notFound("Session");
    if (ctx.objectives.length === 0) throw badRequest("not_practice", "This scenario has no objectives: hints and debriefs are for practice scenarios");
    const rows = ctx.leafId ? await activePath(db, sessionId, ctx.leafId, { maxChars: TRANSCRIPT_MAX_CHARS }) : [];
    const lines: Line[] = rows.filter((m) => m.content.trim() !== "").map((m) => ({ id: m.id, role: m.role, content: m.content }));
    return { db, ctx, lines };
  }

  const transcript = (ctx: Context, lines: Line[]) =>
    lines.map((l) => `${l.role === "user" ? "PERSON" : ctx.characterName.toUpperCase()}: ${l.content}`).join("\n\n");

  async function hint(input: { clientId: string; sessionId: string; signal: Cancellation }): Promise<{ hint: string }> {
    const { ctx, lines } = await load(input.clientId, input.sessionId);
    const messages: ChatMessage[] = [
      {
        role: "system",
        content: [
          `You are a communication coach. A person is practising a conversation: "${ctx.title}" — ${ctx.description}`,
          `They talk with ${ctx.characterName}. What they are working on:\n${ctx.objectives.map((o, i) => `${i + 1}. ${o}`).join("\n")}`,
          "Read the conversation so far and give ONE short, concrete suggestion (one or two sentences) for the person's next message.",
          "Speak to the person as \"you\". Do not write their whole message for them, do not speak as the other character, do not mention scores.",
        ].join("\n\n"),
      },
      { role: "user", content: lines.length ? `The conversation so far:\n\n${transcript(ctx, lines)}` : "The conversation has not started yet." },
    ];
    const done = await deps.gateway.complete({ task: "coach", messages, signal: input.signal, meta: { clientId: input.clientId, sessionId: input.sessionId } });
    const text = done.record.text.trim();
    if (done.record.status === "error" || !text) throw new AppError(502, "upstream_error", done.record.error ?? "The coach sent no hint; try again");
    return { hint: text };
  }

  async function debrief(input: { clientId: string; sessionId: string; signal: Cancellation }): Promise<DebriefView> {
    const { db, ctx, lines } = await load(input.clientId, input.sessionId);
    const own = lines.filter((l) => l.role === "user");
    if (own.length === 0) throw badRequest("nothing_to_evaluate", "There is nothing to give feedback on yet: write to the character first");
    const n = ctx.objectives.length;
    const schema = jsonSchemaForDebrief(n);
    const messages: ChatMessage[] = [
      { role: "system", content: evaluatorInstructions(ctx, ctx.rubrics) },
      { role: "user", content: `The conversation:\n\n${transcript(ctx, lines)}` },
    ];
    const meta = { clientId: input.clientId, sessionId: input.sessionId };
    const params = { response_format: { type: "json_schema" as const, json_schema: { name: "debrief", strict: true, schema } } };

    // One try, and one repair: the answer and what was wrong with it go back to the model.
    let problem = "";
    let model = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      const done = await deps.gateway.complete({ task: "evaluate", messages, params, signal: input.signal, meta }).catch((err: unknown) => {
        // The repair could not be asked (its window overflowed, or the model went away): say why the
        // first answer was refused too, which is what the person can act on.
        if (attempt === 0 || !(err instanceof GatewayError) || err.code === "aborted") throw err;
        throw new AppError(
          502,
          "debrief_failed",
          `The evaluator's answer could not be used (${problem}), and asking it again failed: ${err.message}. No score was given; try again, or choose another model for the evaluate task`,
          undefined,
          { cause: err },
        );
      });
      if (done.record.status === "error") throw new AppError(502, "upstream_error", done.record.error ?? "The evaluator failed; try again");
      model = done.candidate.model.modelKey;
      const checked = check(done.record.text, n, own);
      if ("answer" in checked) {
        const result = toResult(checked.answer, ctx.objectives, own, model);
        const row = await insertDebrief(db, { sessionId: input.sessionId, leafId: ctx.leafId, score: checked.answer.score, result });
        return { id: row.id, createdAt: row.createdAt, score: row.score, ...result };
      }
      problem = checked.problem;
      deps.log.info({ session: input.sessionId, model, attempt, problem }, "a debrief answer was refused");
      messages.push(
        { role: "assistant", content: done.record.text.length > REFUSED_ECHO_MAX_CHARS ? `${done.record.text.slice(0, REFUSED_ECHO_MAX_CHARS)}…` : done.record.text },
        { role: "user", content: `That answer cannot be used: ${problem}. Answer again with the corrected JSON only. Quote the person's own words exactly.` },
      );
    }
    throw new AppError(502, "debrief_failed", `The evaluator's answer could not be used, even after a second try (${problem}). No score was given; try again, or choose another model for the evaluate task`);
  }

  async function debriefsOf(clientId: string, sessionId: string): Promise<DebriefView[]> {
    const db = deps.database.require();
    if (!(await practiceContext(db, sessionId, clientId))) throw notFound("Session");
    return (await listDebriefs(db, sessionId)).map((d) => ({ id: d.id, createdAt: d.createdAt, score: d.score, ...d.result }));
  }

  /** The person's scores at a scenario over their attempts, and the objective they miss most. */
  async function progress(clientId: string | undefined, slug: string): Promise<ProgressView> {
    if (!clientId) return { attempts: [], mostMissed: null };
    const rows = (await attemptsAt(deps.database.require(), clientId, slug)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const missed = new Map<string, number>();
    for (const r of rows) for (const o of r.result.objectives) if (o.rating !== "met") missed.set(o.objective, (missed.get(o.objective) ?? 0) + 1);
    const [top] = [...missed.entries()].sort((a, b) => b[1] - a[1]);
    return {
      attempts: rows.map(({ sessionId, debriefId, createdAt, score }) => ({ sessionId, debriefId, createdAt, score })),
      mostMissed: top ? { objective: top[0], missed: top[1] } : null,
    };
  }

  return { hint, debrief, debriefs: debriefsOf, progress };
}

export type PracticeService = ReturnType<typeof createPracticeService>;

function evaluatorInstructions(ctx: Context, rubrics: Rubric[]): string {
  const objectives = ctx.objectives
    .map((o, i) => {
      const r = rubrics[i];
      return `${i + 1}. ${o}${r ? `\n   met: ${r.met}\n   partly: ${r.partly}\n   not met: ${r.notMet}` : ""}`;
    })
    .join("\n");
  return [
    `You evaluate a practice conversation: "${ctx.title}" — ${ctx.description} The person (PERSON) talks with ${ctx.characterName}.`,
    `The objectives, each with what met, partly met and not met look like:\n${objectives}`,
    [
      "Rate each objective met, partly or not_met, in order (objective 1, 2, …).",
      "Evidence: up to two quotes per objective, copied EXACTLY from the PERSON's own messages (never from the other character), short (a phrase or a sentence).",
      "score: 0 to 100 overall. strengths: two or three things the person did well. tryNext: one concrete thing to try next time.",
      "weakest: the person's weakest message, quoted exactly, and a better version of it.",
      "Answer with JSON only.",
    ].join(" "),
  ].join("\n\n");
}

/** Quotes are matched loosely on spacing, case and quotation marks, never on words. */
const normal = (s: string) =>
  s
    .toLowerCase()
    .replace(/[“”„"‘’']/g, "")
    .replace(/^[\s.…]+|[\s.…]+$/g, "")
    .replace(/\s+/g, " ");

const findQuote = (quote: string, own: Line[]) => {
  const q = normal(quote);
  return q ? own.find((l) => normal(l.content).includes(q)) : undefined;
};

function check(text: string, objectives: number, own: Line[]): { answer: DebriefAnswer } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: "it is not valid JSON" };
  }
  const parsed = debriefAnswerSchema(objectives).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `${issue.path.join(".") || "the answer"}: ${issue.message}` };
  }
  const answer = parsed.data;
  const ratedTwice = new Set(answer.objectives.map((o) => o.objective)).size !== objectives;
  if (ratedTwice) return { problem: "each objective must be rated exactly once" };
  const quotes = [...answer.objectives.flatMap((o) => o.evidence), answer.weakest.quote];
  const missing = quotes.find((q) => !findQuote(q, own));
  if (missing !== undefined) return { problem: `the quote "${missing.slice(0, 80)}" is not in the person's messages` };
  return { answer };
}

function toResult(answer: DebriefAnswer, objectives: string[], own: Line[], model: string): Omit<DebriefView, "id" | "createdAt" | "score"> {
  const link = (quote: string) => ({ quote, messageId: findQuote(quote, own)!.id });
  return {
    objectives: [...answer.objectives]
      .sort((a, b) => a.objective - b.objective)
      .map((o) => ({ objective: objectives[o.objective - 1]!, rating: o.rating, evidence: o.evidence.map(link), comment: o.comment })),
    strengths: answer.strengths,
    tryNext: answer.tryNext,
    weakest: { ...link(answer.weakest.quote), better: answer.weakest.better },
    model,
  };
}
