import { AppError, type ErrorStatus } from "../errors.js";
import { GatewayError } from "../gateway/errors.js";

/** A reply that could not start, as an HTTP error that still knows the attempts made. */
export class GatewayHttpError extends AppError {
  constructor(readonly gatewayError: GatewayError) {
    // A cancelled request is 499 in the logs (nginx's word for "the client went away"); nobody reads its body.
    super(gatewayError.status as ErrorStatus, gatewayError.code, gatewayError.message, undefined, { cause: gatewayError });
  }
}

export function rethrow(err: unknown): never {
  if (err instanceof GatewayError) throw new GatewayHttpError(err);
  throw err;
}
