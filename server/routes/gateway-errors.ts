import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError } from "../errors.js";
import { GatewayError } from "../gateway/errors.js";
import type { Attempt, Candidate } from "../gateway/types.js";

/** A reply that could not start, as an HTTP error that still knows the attempts made. */
export class GatewayHttpError extends AppError {
  constructor(readonly gatewayError: GatewayError) {
    super(gatewayError.status as ContentfulStatusCode, gatewayError.code, gatewayError.message);
  }
}

export function rethrow(err: unknown): never {
  if (err instanceof GatewayError) throw new GatewayHttpError(err);
  throw err;
}

/** Who answered, on every response the gateway served. */
export function routingHeaders(c: Context, candidate: Candidate, attempts: Attempt[]) {
  c.header("x-parley-provider", candidate.provider.name);
  c.header("x-parley-model", candidate.model.modelKey);
  c.header("x-parley-attempts", String(attempts.length));
}

/** On a failure, the attempts made and the last candidate tried, so a client can see what happened. */
export function failureHeaders(c: Context, err: unknown) {
  if (!(err instanceof GatewayHttpError)) return;
  const attempts = err.gatewayError.attempts;
  c.header("x-parley-attempts", String(attempts.length));
  const last = attempts.at(-1);
  if (last) {
    c.header("x-parley-provider", last.provider);
    c.header("x-parley-model", last.model);
  }
}
