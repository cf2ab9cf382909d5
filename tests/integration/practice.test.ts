import { sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { seedDefaults } from "../../server/db/seed.js";
import { BUILTIN_SCENARIOS } from "../../server/scenarios/builtin.js";
import { useChatStack } from "../support/chat-stack.js";
import { olderDatabase, rowsOf } from "../support/older-schema.js";
import { createSession, readSse, type Client } from "../support/parley.js";

/**
 * Practice that teaches: objectives in public, rubrics kept private, a coach's hint, and a debrief
 * asked for as JSON of a schema, checked (quotes against the person's own words), repaired once,
 * stored with the session, and tallied into the person's progress and the admin's list.
 */

const refund = BUILTIN_SCENARIOS.find((s) => s.slug === "refund-request")!;
const RUBRIC_TEXTS = refund.rubrics.flatMap((r) => [r.met, r.partly, r.notMet]);
const ADMIN_TOKEN = "practice-admin-token-0123456789";

type ErrorBody = { error: { code: string; message: string } };
type Debrief = {
  id: string;
  score: number;
  objectives: { objective: string; rating: string; evidence: { quote: string; messageId: string }[]; comment: string }[];
  strengths: string[];
  tryNext: string;
  weakest: { quote: string; messageId: string; better: string };
};

const SORRY = "I'm really sorry about the scratched desk and that nobody answered your four emails.";
const OFFER = "I can send a replacement by express shipping this week, or refund you in full today.";

const answer = (quote = "really sorry about the scratched desk", score = 72) =>
  JSON.stringify({
    objectives: [
      { objective: 1, rating: "met", evidence: [quote], comment: "Named the problem first." },
      { objective: 2, rating: "met", evidence: ["nobody answered your four emails"], comment: "Owned it." },
      { objective: 3, rating: "partly", evidence: ["refund you in full today"], comment: "Concrete, could add a date." },
      { objective: 4, rating: "not_met", evidence: [], comment: "Dana has not agreed yet." },
    ],
    score,
    strengths: ["Empathy first", "A concrete offer"],
    tryNext: "Ask Dana which option she prefers and confirm it.",
    weakest: { quote: OFFER, better: "Would a replacement by Friday, or a full refund today, work better for you?" },
  });

describe.each(["pglite", "postgres"] as const)("practice on %s", (kind) => {
  const stack = useChatStack(kind, "sk-or-practice", { ADMIN_TOKEN });
  const say = async (c: Client, session: string, content: string) => {
    stack.upstream.enqueue({ kind: "stream", chunks: ["*crosses her arms* Go on."] });
    const events = await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content }) }));
    expect(events.at(-1)!.event).toBe("done");
  };
  const practiced = async (c: Client) => {
    const session = await createSession(c, "refund-request");
    await say(c, session, SORRY);
    await say(c, session, OFFER);
    return session;
  };
  const debrief = (c: Client, session: string) => c.json<{ debrief: Debrief } & ErrorBody>(`/api/sessions/${session}/debrief`, { method: "POST", body: "{}" });

  it("shows a practice scenario's objectives, turn limit and difficulty, never its rubrics", async () => {
    const c = stack.parley.client();
    const res = await c.fetch("/api/scenarios/refund-request");
    const text = await res.text();
    const { scenario } = JSON.parse(text) as { scenario: { objectives: string[]; turnLimit: number; difficulty: string } };
    expect(scenario).toMatchObject({ objectives: refund.objectives, turnLimit: 12, difficulty: "medium" });
    const gallery = await (await c.fetch("/api/scenarios")).text();
    for (const r of RUBRIC_TEXTS) {
      expect(text).not.toContain(r);
      expect(gallery).not.toContain(r);
    }
    const story = (await c.json<{ scenario: { objectives: string[]; turnLimit: null } }>("/api/scenarios/the-gilded-tankard")).body.scenario;
    expect(story).toMatchObject({ objectives: [], turnLimit: null });
  });

  it("gives a hint from the coach task, which never sees the rubrics; a story has none", async () => {
    const c = stack.parley.client();
    const session = await practiced(c);
    stack.upstream.enqueue({ kind: "stream", chunks: ["Ask Dana which ", "option she prefers."] });
    const res = await c.json<{ hint: string }>(`/api/sessions/${session}/hint`, { method: "POST", body: "{}" });
    expect(res).toMatchObject({ status: 200, body: { hint: "Ask Dana which option she prefers." } });
    const sent = JSON.stringify(stack.upstream.requests.at(-1)!.body);
    expect(sent).toContain(refund.objectives[0]);
    for (const r of RUBRIC_TEXTS) expect(sent).not.toContain(r);
    // The hint is not part of the conversation.
    const thread = await c.json<{ session: { messages: { content: string }[] } }>(`/api/sessions/${session}`);
    expect(thread.body.session.messages.map((m) => m.content)).not.toContain("Ask Dana which option she prefers.");

    const story = await createSession(c, "the-gilded-tankard");
    expect((await c.json<ErrorBody>(`/api/sessions/${story}/hint`, { method: "POST", body: "{}" })).body.error.code).toBe("not_practice");
    expect((await stack.parley.client().json<ErrorBody>(`/api/sessions/${session}/hint`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("debriefs a conversation: JSON of the schema asked for, quotes linked to the person's messages, kept with the session", async () => {
    const c = stack.parley.client();
    const session = await practiced(c);
    stack.upstream.enqueue({ kind: "stream", chunks: [answer().slice(0, 40), answer().slice(40)] });
    const res = await debrief(c, session);
    expect(res.status).toBe(201);
    const d = res.body.debrief;
    expect(d.score).toBe(72);
    expect(d.objectives.map((o) => [o.objective, o.rating])).toEqual(refund.objectives.map((o, i) => [o, ["met", "met", "partly", "not_met"][i]]));
    const thread = (await c.json<{ session: { messages: { id: string; content: string }[] } }>(`/api/sessions/${session}`)).body.session.messages;
    const idOf = (content: string) => thread.find((m) => m.content === content)!.id;
    expect(d.objectives[0]!.evidence).toEqual([{ quote: "really sorry about the scratched desk", messageId: idOf(SORRY) }]);
    expect(d.weakest).toMatchObject({ quote: OFFER, messageId: idOf(OFFER) });

    // Asked for as JSON of a schema, with the rubric (server to model only).
    const req = stack.upstream.requests.at(-1)!.body as unknown as { response_format: { type: string; json_schema: { schema: { properties: object } } }; messages: { content: string }[] };
    expect(req.response_format.type).toBe("json_schema");
    expect(Object.keys(req.response_format.json_schema.schema.properties)).toEqual(["objectives", "score", "strengths", "tryNext", "weakest"]);
    expect(req.messages[0]!.content).toContain(refund.rubrics[0]!.met);

    // Run again: the earlier debrief is kept.
    stack.upstream.enqueue({ kind: "stream", chunks: [answer(undefined, 80)] });
    expect((await debrief(c, session)).status).toBe(201);
    const all = await c.json<{ debriefs: Debrief[] }>(`/api/sessions/${session}/debriefs`);
    expect(all.body.debriefs.map((x) => x.score)).toEqual([72, 80]);
    // Nothing the browser gets carries a rubric: not the debriefs, the thread, the list, a reply's stream or a hint.
    stack.upstream.enqueue({ kind: "stream", chunks: ["Well?"] });
    const stream = await (await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Anything else?" }) })).text();
    stack.upstream.enqueue({ kind: "stream", chunks: ["Be specific."] });
    const hint = await (await c.fetch(`/api/sessions/${session}/hint`, { method: "POST", body: "{}" })).text();
    const seen = [
      JSON.stringify(all.body),
      JSON.stringify(res.body),
      stream,
      hint,
      await (await c.fetch(`/api/sessions/${session}`)).text(),
      await (await c.fetch("/api/sessions")).text(),
      await (await c.fetch("/api/scenarios/refund-request/progress")).text(),
    ].join("\n");
    expect(seen).toContain("Be specific.");
    for (const r of RUBRIC_TEXTS) expect(seen).not.toContain(r);
    expect((await stack.parley.client().json<ErrorBody>(`/api/sessions/${session}/debriefs`)).status).toBe(404);
  });

  it("repairs an answer once (a quote the person never wrote, or no JSON at all), then refuses with a clear error and no score", async () => {
    const c = stack.parley.client();
    const session = await practiced(c);
    const before = stack.upstream.requests.length;
    stack.upstream.enqueue({ kind: "stream", chunks: [answer("I will personally fly the desk to you")] });
    stack.upstream.enqueue({ kind: "stream", chunks: [answer()] });
    const repaired = await debrief(c, session);
    expect(repaired.status).toBe(201);
    expect(stack.upstream.requests.length - before).toBe(2);
    const retry = stack.upstream.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(retry.messages.at(-1)!.content).toContain('"I will personally fly the desk to you" is not in the person\'s messages');

    stack.upstream.enqueue({ kind: "stream", chunks: ["Great job! 10/10"] });
    stack.upstream.enqueue({ kind: "stream", chunks: ['{"score": 101}'] });
    const failed = await debrief(c, session);
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe("debrief_failed");
    expect(failed.body.error.message).toMatch(/No score was given/);
    const kept = await c.json<{ debriefs: Debrief[] }>(`/api/sessions/${session}/debriefs`);
    expect(kept.body.debriefs).toHaveLength(1);

    // Nothing to judge yet.
    const empty = await createSession(c, "refund-request");
    expect((await debrief(c, empty)).body.error.code).toBe("nothing_to_evaluate");
  });

  it("sends back only the start of a long refused answer, and says why it was refused when the repair cannot be asked", async () => {
    // Seen with a small local model: it wrote prose to its length limit, and the repair, carrying
    // all of it, overflowed the model's window; the person was told every provider had failed.
    const c = stack.parley.client();
    const session = await practiced(c);
    const before = stack.upstream.requests.length;
    stack.upstream.enqueue({ kind: "stream", chunks: Array.from({ length: 100 }, (_, i) => `Once upon a time, story line ${i}. `) });
    stack.upstream.enqueue({ kind: "status", status: 400, body: { error: { code: "context_length_exceeded", message: "The conversation is 2131 tokens long and this model's context holds 2048" } } });
    const failed = await debrief(c, session);
    expect(stack.upstream.requests.length - before).toBe(2);
    const repair = stack.upstream.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    const echoed = repair.messages.at(-2)!;
    expect(echoed.role).toBe("assistant");
    expect(echoed.content).toMatch(/^Once upon a time, story line 0\. .*…$/);
    expect(echoed.content.length).toBe(2_001);
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe("debrief_failed");
    expect(failed.body.error.message).toContain("(it is not valid JSON), and asking it again failed:");
    expect(failed.body.error.message).toContain("this model's context holds 2048");
    expect((await c.json<{ debriefs: Debrief[] }>(`/api/sessions/${session}/debriefs`)).body.debriefs).toHaveLength(0);
  });

  it("shows the person's scores over attempts and what they miss most; the admin sees each scenario's average", async () => {
    const c = stack.parley.client();
    for (const score of [40, 65]) {
      const session = await practiced(c);
      stack.upstream.enqueue({ kind: "stream", chunks: [answer(undefined, score)] });
      expect((await debrief(c, session)).status).toBe(201);
    }
    const { progress } = (await c.json<{ progress: { attempts: { score: number }[]; mostMissed: { objective: string; missed: number } } }>("/api/scenarios/refund-request/progress")).body;
    expect(progress.attempts.map((a) => a.score)).toEqual([40, 65]);
    expect(progress.mostMissed).toEqual({ objective: refund.objectives[2], missed: 2 });
    const list = await c.json<{ sessions: { lastScore: number | null }[] }>("/api/sessions");
    expect(list.body.sessions.slice(0, 2).map((s) => s.lastScore)).toEqual([65, 40]);
    expect((await stack.parley.client().json<{ progress: { attempts: unknown[] } }>("/api/scenarios/refund-request/progress")).body.progress.attempts).toEqual([]);

    const admin = await fetch(`${stack.parley.url}/api/admin/scenarios`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const scenarios = ((await admin.json()) as { scenarios: { slug: string; practice?: { averageScore: number; attempts: number; mostMissed: { objective: string } } }[] }).scenarios;
    const row = scenarios.find((s) => s.slug === "refund-request")!;
    expect(row.practice!.attempts).toBeGreaterThanOrEqual(2);
    expect(row.practice!.mostMissed.objective).toBeTruthy();
  });
});

describe("the admin's practice settings", () => {
  const stack = useChatStack("pglite", "sk-or-practice-admin", { ADMIN_TOKEN });
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.parley.url}/api/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" } });

  it("edits objectives with their rubrics (the same field errors as any form), task profiles, and shows the tasks' usage", async () => {
    const list = (await (await admin("/scenarios")).json()) as { scenarios: { id: string; slug: string; rubrics: unknown[] }[] };
    const tankard = list.scenarios.find((s) => s.slug === "the-gilded-tankard")!;
    const missing = await admin(`/scenarios/${tankard.id}`, { method: "PATCH", body: JSON.stringify({ objectives: ["Order a drink politely"] }) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { fields: Record<string, string> } }).error.fields.rubrics).toMatch(/Each objective needs its rubric/);
    const blank = await admin(`/scenarios/${tankard.id}`, {
      method: "PATCH",
      body: JSON.stringify({ objectives: ["Order a drink politely"], rubrics: [{ met: "", partly: "b", notMet: "c" }], turnLimit: 1 }),
    });
    expect(((await blank.json()) as { error: { fields: Record<string, string> } }).error.fields).toMatchObject({ "rubrics.0.met": expect.any(String), turnLimit: "At least 2 turns" });
    const saved = await admin(`/scenarios/${tankard.id}`, {
      method: "PATCH",
      body: JSON.stringify({ objectives: ["Order a drink politely"], rubrics: [{ met: "Says please", partly: "Curt", notMet: "Rude" }], turnLimit: 6, difficulty: "easy" }),
    });
    expect(saved.status).toBe(200);
    const c = stack.parley.client();
    const page = await (await c.fetch("/api/scenarios/the-gilded-tankard")).text();
    expect(JSON.parse(page).scenario).toMatchObject({ objectives: ["Order a drink politely"], turnLimit: 6, difficulty: "easy" });
    expect(page).not.toContain("Says please");

    const tasks = (await (await admin("/tasks")).json()) as { tasks: { task: string; maxTokens: number }[] };
    expect(tasks.tasks.map((t) => t.task)).toEqual(expect.arrayContaining(["coach", "evaluate", "roleplay", "enhance"]));
    const bad = await admin("/tasks/evaluate", { method: "PATCH", body: JSON.stringify({ temperature: 3 }) });
    expect(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields.temperature).toBe("0 to 2");
    expect((await admin("/tasks/evaluate", { method: "PATCH", body: JSON.stringify({ maxTokens: 1800 }) })).status).toBe(200);
    expect((await admin("/tasks/nope", { method: "PATCH", body: JSON.stringify({ maxTokens: 10 }) })).status).toBe(404);

    // A hint goes out with the coach's profile, and the Usage tab counts it under its task.
    const session = await createSession(c, "refund-request");
    stack.upstream.enqueue({ kind: "stream", chunks: ["Fine."] });
    await readSse(await c.fetch(`/api/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ content: "Hello Dana" }) }));
    stack.upstream.enqueue({ kind: "stream", chunks: ["Say sorry first."] });
    expect((await c.fetch(`/api/sessions/${session}/hint`, { method: "POST", body: "{}" })).status).toBe(200);
    expect(stack.upstream.requests.at(-1)!.body).toMatchObject({ max_tokens: 160, temperature: 0.6 });
    await expect.poll(async () => ((await (await admin("/usage?window=hour")).json()) as { byTask: { task: string }[] }).byTask.map((t) => t.task)).toEqual(
      expect.arrayContaining(["coach", "roleplay"]),
    );
  });
});

describe.each(["pglite", "postgres"] as const)("a database seeded by an older Parley on %s", (kind) => {
  it("gets the practice tasks, their models, and objectives for the shipped practice scenarios, keeping an admin's own", async () => {
    const older = await olderDatabase(kind, "0013", inject("postgresUrl"));
    try {
      const row = (slug: string) => sql`insert into scenarios (slug, title, character_name, description, category, opening_message, avatar_style, avatar_seed, system_prompt)
        values (${slug}, 'T', 'C', 'd', 'practice', 'Hi', 'avataaars', ${slug}, 'p')`;
      await older.exec(row("refund-request"));
      await older.exec(row("salary-negotiation"));
      await older.exec(sql`insert into api_providers (name, display_name, kind, base_url, auth_scheme, auth_header_name, secret_name)
        values ('openrouter', 'OpenRouter', 'openrouter', 'https://openrouter.ai/api/v1', 'bearer', 'Authorization', 'OPENROUTER_API_KEY')`);
      await older.exec(sql`insert into system_config (key, value) values ('seed', '{"version": 2}'::jsonb)`);
      await older.close();
      const handle = await openDatabase({ databaseUrl: older.databaseUrl, dataDir: older.dataDir });
      try {
        // An admin gave one of them objectives of their own before this Parley ran.
        await handle.db.execute(sql`update scenarios set objectives = '{"Mine"}', rubrics = '[{"met":"a","partly":"b","notMet":"c"}]'::jsonb where slug = 'salary-negotiation'`);
        expect(await seedDefaults(handle.db)).toEqual({ seeded: true });
        const scenarios = rowsOf<{ slug: string; objectives: string[]; turn_limit: number | null }>(
          await handle.db.execute(sql`select slug, objectives, turn_limit from scenarios order by slug`),
        );
        expect(scenarios).toEqual([
          { slug: "refund-request", objectives: refund.objectives, turn_limit: 12 },
          { slug: "salary-negotiation", objectives: ["Mine"], turn_limit: null },
        ]);
        const tasks = rowsOf<{ task: string }>(await handle.db.execute(sql`select task from task_profiles where task in ('coach', 'evaluate') order by task`));
        expect(tasks.map((t) => t.task)).toEqual(["coach", "evaluate"]);
        const models = rowsOf<{ task: string }>(await handle.db.execute(sql`select task from api_models where task in ('coach', 'evaluate') order by task`));
        expect(models.map((m) => m.task)).toEqual(["coach", "evaluate"]);
      } finally {
        await handle.close();
      }
    } finally {
      await older.dispose();
    }
  });
});
