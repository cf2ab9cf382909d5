import type { Context } from "hono";
import type { z } from "zod";
import { fieldErrors } from "../../contracts/admin-schemas.js";
import { AppError, badRequest } from "../errors.js";

/** Parses a JSON body against a schema; malformed JSON and invalid fields both become a 400 that says what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseJson(await c.req.text(), schema);
}

/** A body already read as text, parsed and checked as readJson does. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("invalid_json", "The request body is not valid JSON");
  }
  refuseNul(body);
  return validate(schema, body);
}

/** Like readJson, for bodies that may be left out: an empty body is `{}`. */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  return text.trim() === "" ? validate(schema, {}) : parseJson(text, schema);
}

/**
 * Postgres text cannot hold a NUL character (U+0000): refused at the door with a 400, rather than
 * failing a write halfway through a request. Keys are checked as well as values.
 */
export function refuseNul(value: unknown, path = ""): void {
  if (typeof value === "string") {
    if (value.includes("\u0000")) throw nulError(path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => refuseNul(v, `${path}${path ? "." : ""}${i}`));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes("\u0000")) throw nulError(path);
      refuseNul(v, `${path}${path ? "." : ""}${k}`);
    }
  }
}

const nulError = (path: string) =>
  badRequest("invalid_characters", `${path ? `${path}: ` : ""}The text contains a NUL character (U+0000), which cannot be stored`);

/** Checks data against a schema: the first problem as the message, every field's in `fields`. */
export function validate<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new AppError(400, "invalid_request", `${where}${issue.message}`, fieldErrors(parsed.error));
  }
  return parsed.data;
}

/** Route ids are UUIDs; anything else cannot name a row, so it is "not found" without a query. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
