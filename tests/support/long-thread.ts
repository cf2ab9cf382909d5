import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Database } from "../../server/db/client.js";
import { messages, scenarios, sessions } from "../../server/db/schema.js";

/**
 * Writes a session of `n` chained messages straight into the database (a long story, without
 * asking a model n/2 times) and returns its id. Message i says "Message i:" first, so a test can
 * tell where in the thread it is. Written before Parley starts on PGlite (one process at a time).
 */
export async function writeLongThread(db: Database, clientId: string, n: number, scenarioSlug = "refund-request"): Promise<string> {
  const [scenario] = await db.select({ id: scenarios.id }).from(scenarios).where(eq(scenarios.slug, scenarioSlug));
  const [session] = await db.insert(sessions).values({ clientId, scenarioId: scenario!.id }).returning();
  const ids = Array.from({ length: n }, () => randomUUID());
  const rows = ids.map((id, i) => ({
    id,
    sessionId: session!.id,
    parentId: i === 0 ? null : ids[i - 1]!,
    role: (i % 2 === 0 ? "assistant" : "user") as "assistant" | "user",
    content: `Message ${i}: ${"a line of an evening's role-play, of ordinary length ".repeat(8)}`,
    finishReason: i === 0 ? "opening" : i % 2 === 0 ? "stop" : null,
  }));
  for (let i = 0; i < rows.length; i += 500) await db.insert(messages).values(rows.slice(i, i + 500));
  await db.update(sessions).set({ leafId: ids.at(-1)! }).where(eq(sessions.id, session!.id));
  return session!.id;
}
