import { afterAll, beforeAll, inject } from "vitest";
import { createTestDatabase } from "./db.js";
import { startParley, type ParleyProcess } from "./parley.js";
import { ScriptedUpstream } from "./upstream.js";

export type ChatStack = { upstream: ScriptedUpstream; parley: ParleyProcess };

/**
 * Parley on PGlite or on a fresh Postgres database, with a scripted upstream as OpenRouter: up
 * before the suite's tests, down after them. The fields are set once `beforeAll` has run.
 */
export function useChatStack(kind: "pglite" | "postgres", openrouterKey: string, env: Record<string, string> = {}): ChatStack {
  const stack = {} as ChatStack;
  let pg: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    stack.upstream = await ScriptedUpstream.start();
    pg = kind === "postgres" ? await createTestDatabase(inject("postgresUrl")) : undefined;
    stack.parley = await startParley({
      env: { OPENROUTER_BASE_URL: stack.upstream.baseUrl, OPENROUTER_API_KEY: openrouterKey, DATABASE_URL: pg?.url, RATE_LIMIT_PER_MIN: "100000", ...env },
    });
  });
  afterAll(async () => {
    await stack.parley?.stop();
    await stack.upstream?.close();
    await pg?.drop();
  });
  return stack;
}
