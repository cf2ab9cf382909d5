/** Why the gateway could not start a reply. Framework-free: routes map these to HTTP. */
export class GatewayError extends Error {
  constructor(
    readonly code: "no_provider" | "upstream_unavailable" | "upstream_rejected" | "aborted",
    message: string,
    readonly attempts: import("./types.js").Attempt[] = [],
    /** The upstream's own status, for rejections (400, 401, …). */
    readonly upstreamStatus?: number,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}
