import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { getOwnedSession } from "../db/queries/sessions.js";
import { AppError, badRequest, notFound } from "../errors.js";
import type { Gateway } from "../gateway/gateway.js";
import type { Cancellation, ChatMessage } from "../gateway/types.js";

const INSTRUCTIONS = [
  "You improve a person's draft message in a role-play chat before they send it.",
  "Keep their meaning, intent, point of view and language; make it clearer, more natural and more vivid.",
  "Keep roughly the same length (at most twice as long). Keep any *actions in asterisks* style they use.",
  "Do not answer the message, do not speak as the other character, do not add quotes, notes or options.",
  "Reply with the rewritten message only.",
].join(" ");

/**
 * Rewrites a draft with the `enhance` task. With a session, the scenario's public description
 * gives the rewrite its context; the private system prompt is not used, so nothing of it can
 * surface in the text handed back to the browser.
 */
export function createEnhanceService(deps: { database: DatabaseLifecycle; gateway: Gateway; maxMessageChars: number }) {
  return async function enhance(input: { clientId: string; text: string; sessionId?: string; signal: Cancellation }) {
    const text = input.text.trim();
    if (!text) throw badRequest("empty_message", "There is nothing to enhance: write a draft first");
    if (text.length > deps.maxMessageChars) {
      throw badRequest("message_too_long", `The draft is longer than ${deps.maxMessageChars} characters`);
    }
    let context = "";
    /** Logged with the request only when it is the caller's own session. */
    let sessionId: string | undefined;
    if (input.sessionId) {
      // Another client's session is not found, as everywhere else: it lends no context, and no log row names it.
      const owned = await getOwnedSession(deps.database.require(), input.sessionId, input.clientId);
      if (!owned) throw notFound("Session");
      const s = owned.scenario;
      context = ` The person is talking with ${s.characterName} in the scenario "${s.title}": ${s.description}`;
      sessionId = input.sessionId;
    }
    const messages: ChatMessage[] = [
      { role: "system", content: INSTRUCTIONS + context },
      { role: "user", content: `Draft:\n${text}` },
    ];
    const done = await deps.gateway.complete({
      task: "enhance",
      messages,
      signal: input.signal,
      meta: { clientId: input.clientId, sessionId },
    });
    const enhanced = cleanUp(done.record.text);
    if (done.record.status === "error" || !enhanced) {
      throw new AppError(502, "upstream_error", done.record.error ?? "The model returned no text; try again");
    }
    return { text: enhanced, candidate: done.candidate, attempts: done.attempts };
  };
}

/** Models like to wrap a rewrite in quotes or label it; the person wants the message alone. */
export function cleanUp(s: string): string {
  let t = s.trim().replace(/^(rewritten|improved|enhanced)( message| draft)?:\s*/i, "");
  const pairs: [string, string][] = [['"', '"'], ["“", "”"], ["'", "'"]];
  for (const [open, close] of pairs) {
    if (t.length > 1 && t.startsWith(open) && t.endsWith(close) && !t.slice(1, -1).includes(open)) t = t.slice(1, -1).trim();
  }
  return t;
}

export type EnhanceService = ReturnType<typeof createEnhanceService>;
