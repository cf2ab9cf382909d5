import type { Context } from "hono";
import type { z } from "zod";
import { parseJson, validate } from "../../contracts/json-input.js";
import type { AppEnv } from "../app-env.js";
import { AppError } from "../errors.js";
import { readBodyBytes, readBodyText } from "./node-io.js";

export { missingOrWrong, parseJson, refuseNul, validate } from "../../contracts/json-input.js";

/** Without a limit set for the route (app.ts sets one for /api), a body this large is refused. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A 413 for a body past `maxBytes` (refuseBody in node-io.ts deals with the rest of the body). */
export function bodyTooLarge(maxBytes: number): AppError {
  return new AppError(413, "body_too_large", `The request body is larger than ${maxBytes} bytes`);
}

/** The body as text, read from Node's request, refused with 413 past the route's limit (declared or read). */
function readBody(c: Context): Promise<string> {
  const maxBytes = (c as Context<AppEnv>).get("maxBodyBytes") ?? DEFAULT_MAX_BODY_BYTES;
  return readBodyText(c, maxBytes, () => bodyTooLarge(maxBytes));
}

/** The body's bytes (an uploaded file), within the route's limit. */
export function readBinary(c: Context): Promise<Buffer> {
  const maxBytes = (c as Context<AppEnv>).get("maxBodyBytes") ?? DEFAULT_MAX_BODY_BYTES;
  return readBodyBytes(c, maxBytes, () => bodyTooLarge(maxBytes));
}

/** Parses a JSON body against a schema; malformed JSON and invalid fields both become a 400 that says what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseJson(await readBody(c), schema);
}

/** Like readJson, for bodies that may be left out: an empty body is `{}`. */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readBody(c);
  return text.trim() === "" ? validate(schema, {}) : parseJson(text, schema);
}

/** Route ids are UUIDs; anything else cannot name a row, so it is "not found" without a query. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
