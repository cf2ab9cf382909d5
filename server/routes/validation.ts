import type { Context } from "hono";
import type { z } from "zod";
import { parseJson, validate } from "../../contracts/json-input.js";

export { parseJson, refuseNul, validate } from "../../contracts/json-input.js";

/** Parses a JSON body against a schema; malformed JSON and invalid fields both become a 400 that says what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseJson(await c.req.text(), schema);
}

/** Like readJson, for bodies that may be left out: an empty body is `{}`. */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  return text.trim() === "" ? validate(schema, {}) : parseJson(text, schema);
}

/** Route ids are UUIDs; anything else cannot name a row, so it is "not found" without a query. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
