import type { Context } from "hono";
import type { Attempt, Candidate } from "../gateway/types.js";
import { GatewayHttpError } from "./gateway-errors.js";

/**
 * The `x-parley-*` headers, written here and nowhere else: who answered a routed request (or, for
 * one that never started, who was tried last) and how many tries it took.
 */

/**
 * A header value from data: HTTP headers carry Latin-1 at most, and a model key is an admin's text,
 * so anything outside printable ASCII is percent-encoded rather than left to throw mid-response.
 */
export const headerValue = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v));

/** Who answered (or, for a reply that never started, who was tried last), as header values. */
export function servedBy(served: { provider: string; model: string } | undefined, attempts: number): Record<string, string> {
  return served
    ? { "x-parley-attempts": String(attempts), "x-parley-provider": headerValue(served.provider), "x-parley-model": headerValue(served.model) }
    : { "x-parley-attempts": String(attempts) };
}

function servedByHeaders(c: Context, served: { provider: string; model: string } | undefined, attempts: number) {
  for (const [k, v] of Object.entries(servedBy(served, attempts))) c.header(k, v);
}

/** Who answered, on every response the gateway served. */
export const routingHeaderValues = (candidate: Candidate, attempts: Attempt[]) =>
  servedBy({ provider: candidate.provider.name, model: candidate.model.modelKey }, attempts.length);

export function routingHeaders(c: Context, candidate: Candidate, attempts: Attempt[]) {
  servedByHeaders(c, { provider: candidate.provider.name, model: candidate.model.modelKey }, attempts.length);
}

/** On a failure, the attempts made and the last candidate tried, so a client can see what happened. */
export function failureHeaders(c: Context, err: unknown) {
  if (!(err instanceof GatewayHttpError)) return;
  const attempts = err.gatewayError.attempts;
  servedByHeaders(c, attempts.at(-1), attempts.length);
}
