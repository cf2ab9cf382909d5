import type { Context } from "hono";
import type { z } from "zod";
import { badRequest } from "../errors.js";

/** Parses a JSON body against a schema; malformed JSON and invalid fields both become a 400 that says what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest("invalid_json", "The request body is not valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw badRequest("invalid_request", `${where}${issue.message}`);
  }
  return parsed.data;
}

/** Route ids are UUIDs; anything else cannot name a row, so it is "not found" without a query. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
