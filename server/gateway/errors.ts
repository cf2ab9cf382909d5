import type { ErrorCode } from "../../contracts/errors.js";
import type { Attempt } from "./types.js";

/** The codes of contracts/errors.ts that the gateway itself raises. */
export type GatewayErrorCode = Extract<ErrorCode, "no_provider" | "upstream_unavailable" | "upstream_rejected" | "prompt_too_long" | "aborted">;

/** Why the gateway could not start a reply. Framework-free: `status` is a suggestion routes may use. */
export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly attempts: Attempt[] = [],
    /** The HTTP status that fits: the upstream's own for a rejected request, 503 or 502 otherwise. */
    readonly status: number = code === "upstream_rejected" || code === "prompt_too_long" ? 400 : code === "aborted" ? 499 : 503,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}
