/**
 * What of an error may go into a log line. A failed query's message ends in its parameters
 * (drizzle's "Failed query: … params: …"): the person's messages, the model's replies, a system
 * prompt, the browser's client id. So a log gets the driver's code and message, never the query's
 * text or parameters, and a stack without its first line (which repeats the message).
 */

type ErrorLike = { name?: string; message?: string; code?: unknown; cause?: unknown; stack?: string; query?: unknown; params?: unknown };

const MAX_MESSAGE = 300;

/** Drizzle wraps the driver's error; the driver's is the one worth reading. */
function innermost(err: ErrorLike): ErrorLike {
  let e = err;
  for (let i = 0; i < 4 && e.cause && typeof e.cause === "object"; i++) {
    if (!("params" in e) && !/^Failed query:/.test(e.message ?? "")) break;
    e = e.cause as ErrorLike;
  }
  return e;
}

/** Cuts anything a query could have carried out of a message. */
export function scrubMessage(message: string): string {
  let m = message;
  const params = m.search(/\n?params:/);
  if (params >= 0) m = m.slice(0, params);
  if (/^Failed query:/.test(m)) m = "a database query failed";
  return m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m;
}

/** The code an error carries: a Postgres SQLSTATE, a Node errno, a driver's own. */
export function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as ErrorLike;
  for (const x of [e, innermost(e), e.cause as ErrorLike | undefined]) {
    if (x && typeof x.code === "string" && x.code) return x.code;
  }
  return undefined;
}

/** `{err, code}` for a log line. */
export function errorFields(err: unknown): { err: string; code?: string } {
  if (!err || typeof err !== "object") return { err: scrubMessage(String(err)) };
  const inner = innermost(err as ErrorLike);
  const code = errorCode(err);
  return { err: scrubMessage(inner.message || (err as ErrorLike).message || String(err)), ...(code ? { code } : {}) };
}

/** Like errorFields, with the stack's frames (and not its message line) for unexpected errors. */
export function errorFieldsWithStack(err: unknown): { err: string; code?: string; stack?: string } {
  const frames = typeof (err as ErrorLike)?.stack === "string" ? (err as ErrorLike).stack!.split("\n").filter((l) => /^\s+at /.test(l)).join("\n") : "";
  return { ...errorFields(err), ...(frames ? { stack: frames } : {}) };
}
