/** Why the gateway could not start a reply. Framework-free: routes map these to HTTP. */
export class GatewayError extends Error {
  constructor(
    readonly code: "no_provider" | "upstream_unavailable" | "upstream_rejected" | "aborted",
    message: string,
    readonly attempts: import("./types.js").Attempt[] = [],
  ) {
    super(message);
    this.name = "GatewayError";
  }
}
