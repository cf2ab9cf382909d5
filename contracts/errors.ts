/**
 * The error body every API of Parley answers with — the app's API, the admin's, `/v1` and the
 * worker — and the codes it may carry, as one union: a client can switch on them, and a new code
 * is added here or the build fails.
 */
export const ERROR_CODES = [
  // the request itself
  "invalid_json",
  "invalid_request",
  "invalid_characters",
  "body_too_large",
  "request_too_large",
  "unsupported_media_type",
  "not_found",
  "duplicate",
  "provider_in_use",
  "scenario_in_use",
  "empty_message",
  "message_too_long",
  "invalid_seed",
  "invalid_chat_file",
  "invalid_card",
  "card_too_large",
  "no_image",
  "invalid_lorebook",
  "prompt_private",
  "no_prompt_report",
  "not_practice",
  "nothing_to_evaluate",
  "debrief_failed",
  "insufficient_quota",
  "key_not_allowed",
  "cannot_delete_opening",
  "nothing_to_regenerate",
  "reply_in_progress",
  // who is asking
  "unauthorized",
  "unknown_client",
  "wrong_token",
  "invalid_api_key",
  "csrf_failed",
  "cross_site",
  "api_disabled",
  "too_many_attempts",
  "rate_limited",
  // the models
  "no_provider",
  "no_models",
  "model_not_found",
  "model_loading",
  "worker_busy",
  "context_length_exceeded",
  "prompt_too_long",
  "upstream_unavailable",
  "upstream_rejected",
  "upstream_error",
  "aborted",
  "empty_reply",
  "not_saved",
  // Parley itself
  "db_unavailable",
  "internal_error",
  // an HTTP-level refusal from the framework (its own status says which)
  "http_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorBody = { error: { code: ErrorCode; message: string; fields?: Record<string, string> } };

export const errorBody = (code: ErrorCode, message: string, fields?: Record<string, string>): ErrorBody => ({
  error: { code, message, ...(fields ? { fields } : {}) },
});

/** The HTTP statuses an AppError may carry: the client and server errors. */
export type ErrorStatus =
  | 400 | 401 | 402 | 403 | 404 | 405 | 406 | 407 | 408 | 409 | 410 | 411 | 412 | 413 | 414 | 415 | 416 | 417 | 418 | 421 | 422 | 423 | 424 | 425 | 426 | 428 | 429 | 431 | 451
  | 500 | 501 | 502 | 503 | 504 | 505 | 506 | 507 | 508 | 510 | 511;

/** The one error type: a stable code for machines, a sentence for people, and an HTTP status. */
export class AppError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: ErrorCode,
    message: string,
    /** Per-field messages for a form, keyed by the field's dotted path. */
    readonly fields?: Record<string, string>,
    /** What went wrong underneath (kept for logs and error reports; never sent to the client). */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "AppError";
  }
}

export const notFound = (what: string) => new AppError(404, "not_found", `${what} not found`);
export const badRequest = (code: ErrorCode, message: string) => new AppError(400, code, message);
