import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error type: a stable code for machines, a sentence for people, and an HTTP status. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
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

export type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };

export const errorBody = (code: string, message: string, fields?: Record<string, string>): ErrorBody => ({
  error: { code, message, ...(fields ? { fields } : {}) },
});

export const notFound = (what: string) => new AppError(404, "not_found", `${what} not found`);
export const badRequest = (code: string, message: string) => new AppError(400, code, message);
