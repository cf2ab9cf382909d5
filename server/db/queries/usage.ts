import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "../client.js";
import type { RequestView, UsageView } from "../../admin/views.js";
import { apiKeys, requestLog } from "../schema.js";
import type { RequestStatus, UsageWindow } from "../../../contracts/enums.js";

/** The periods the Usage tab offers, and the width of a chart bar in each. */
const SPANS: Record<UsageWindow, { ms: number; bucketS: number }> = {
  hour: { ms: 3_600_000, bucketS: 300 },
  day: { ms: 86_400_000, bucketS: 3600 },
  week: { ms: 7 * 86_400_000, bucketS: 6 * 3600 },
};

/** Failed outright: no reply at all, or one that broke off. A client leaving (`aborted`) is not an error. */
const isError = sql`${requestLog.status} not in ('ok', 'aborted')`;
/** Served by another candidate than the first one tried: the fallback chain was used. */
const isFallback = sql`${requestLog.provider} is not null and jsonb_array_length(${requestLog.attempts}) > 0 and (
  (${requestLog.attempts}->0->>'provider') is distinct from ${requestLog.provider} or (${requestLog.attempts}->0->>'model') is distinct from ${requestLog.model})`;

const measures = {
  requests: sql<number>`count(*)::int`,
  promptTokens: sql<number>`coalesce(sum(${requestLog.promptTokens}), 0)::int`,
  completionTokens: sql<number>`coalesce(sum(${requestLog.completionTokens}), 0)::int`,
  cost: sql<number>`coalesce(sum(${requestLog.cost}), 0)::float8`,
  errors: sql<number>`(count(*) filter (where ${isError}))::int`,
  fallbacks: sql<number>`(count(*) filter (where ${isFallback}))::int`,
};

export async function usageSummary(db: Database, window: UsageWindow, now = new Date(), apiKeyId?: string): Promise<UsageView> {
  const { ms, bucketS } = SPANS[window];
  const since = new Date(now.getTime() - ms);
  // One key's requests only, when the Usage tab is filtered by key.
  const inWindow = and(gte(requestLog.createdAt, since), apiKeyId ? eq(requestLog.apiKeyId, apiKeyId) : undefined)!;
  // Inlined, not a parameter: GROUP BY must see the same expression as the SELECT (the width is ours, not input).
  const width = sql.raw(String(bucketS));
  const bucket = sql<number>`(floor(extract(epoch from ${requestLog.createdAt}) / ${width}) * ${width})::bigint`;
  const [totals, byModel, byProvider, byTask, byKey, series] = await Promise.all([
    db.select(measures).from(requestLog).where(inWindow),
    db
      .select({ provider: requestLog.provider, model: requestLog.model, ...measures })
      .from(requestLog)
      .where(inWindow)
      .groupBy(requestLog.provider, requestLog.model)
      .orderBy(sql`count(*) desc`),
    db.select({ provider: requestLog.provider, ...measures }).from(requestLog).where(inWindow).groupBy(requestLog.provider).orderBy(sql`count(*) desc`),
    db.select({ task: requestLog.task, ...measures }).from(requestLog).where(inWindow).groupBy(requestLog.task).orderBy(sql`count(*) desc`),
    db
      .select({ apiKeyId: requestLog.apiKeyId, name: apiKeys.name, ...measures })
      .from(requestLog)
      .innerJoin(apiKeys, eq(apiKeys.id, requestLog.apiKeyId))
      .where(inWindow)
      .groupBy(requestLog.apiKeyId, apiKeys.name)
      .orderBy(sql`count(*) desc`),
    db.select({ bucket, ...measures }).from(requestLog).where(inWindow).groupBy(bucket).orderBy(bucket),
  ]);
  // Every bar of the period, empty ones included, so the chart's time axis is even.
  const byBucket = new Map(series.map((s) => [Number(s.bucket), s]));
  const first = Math.floor(since.getTime() / 1000 / bucketS) * bucketS;
  const points = [];
  for (let t = first; t <= now.getTime() / 1000; t += bucketS) {
    const s = byBucket.get(t);
    points.push({ at: new Date(t * 1000).toISOString(), requests: s?.requests ?? 0, cost: s?.cost ?? 0, errors: s?.errors ?? 0, fallbacks: s?.fallbacks ?? 0, tokens: (s?.promptTokens ?? 0) + (s?.completionTokens ?? 0) });
  }
  return {
    window,
    since: since.toISOString(),
    bucketSeconds: bucketS,
    totals: totals[0]!,
    byModel,
    byProvider,
    byTask,
    byKey: byKey.map(({ apiKeyId, ...k }) => ({ ...k, apiKeyId: apiKeyId! })),
    series: points,
  };
}

/** `status: "error"` is every failure (see isError), the other statuses themselves. */
export type RequestLogFilter = { status?: RequestStatus; model?: string; sessionId?: string; apiKeyId?: string; before?: number; limit: number };

/** The newest requests first; `before` (an id) pages back. The client id is left out: it is the browser's session credential. */
export async function listRequests(db: Database, f: RequestLogFilter): Promise<RequestView[]> {
  const where: SQL[] = [];
  if (f.status === "error") where.push(isError);
  else if (f.status) where.push(eq(requestLog.status, f.status));
  if (f.model) where.push(eq(requestLog.model, f.model));
  if (f.sessionId) where.push(eq(requestLog.sessionId, f.sessionId));
  if (f.apiKeyId) where.push(eq(requestLog.apiKeyId, f.apiKeyId));
  if (f.before !== undefined) where.push(lt(requestLog.id, f.before));
  return db
    .select({
      id: requestLog.id,
      createdAt: requestLog.createdAt,
      sessionId: requestLog.sessionId,
      task: requestLog.task,
      requestedModel: requestLog.requestedModel,
      provider: requestLog.provider,
      model: requestLog.model,
      status: requestLog.status,
      attempts: requestLog.attempts,
      ttftMs: requestLog.ttftMs,
      totalMs: requestLog.totalMs,
      promptTokens: requestLog.promptTokens,
      completionTokens: requestLog.completionTokens,
      tokensEstimated: requestLog.tokensEstimated,
      cost: requestLog.cost,
      error: requestLog.error,
      apiKeyId: requestLog.apiKeyId,
      apiKeyName: apiKeys.name,
      cachedTokens: requestLog.cachedTokens,
      cacheWriteTokens: requestLog.cacheWriteTokens,
      reasoningTokens: requestLog.reasoningTokens,
      generationId: requestLog.generationId,
    })
    .from(requestLog)
    .leftJoin(apiKeys, eq(apiKeys.id, requestLog.apiKeyId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(requestLog.id))
    .limit(f.limit) as Promise<RequestView[]>;
}
