import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError } from "../errors.js";
import { GatewayError } from "../gateway/errors.js";
import type { Attempt, Candidate } from "../gateway/types.js";

/** A reply that could not start, as an HTTP error that still knows the attempts made. */
export class GatewayHttpError extends AppError {
  constructor(readonly gatewayError: GatewayError) {
    super(gatewayError.status as ContentfulStatusCode, gatewayError.code, gatewayError.message, undefined, { cause: gatewayError });
  }
}

export function rethrow(err: unknown): never {
  if (err instanceof GatewayError) throw new GatewayHttpError(err);
  throw err;
}

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

export function servedByHeaders(c: Context, served: { provider: string; model: string } | undefined, attempts: number) {
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
