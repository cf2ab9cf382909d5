import type { z } from "zod";
import { fieldErrors } from "./admin-schemas.js";
import { AppError, badRequest } from "./errors.js";

/**
 * How every API of Parley (the app's, the admin's, `/v1`, the worker's) reads a JSON body: malformed
 * JSON and invalid fields both become a 400 that says what is wrong, and a NUL character, which
 * Postgres text cannot hold, is refused at the door.
 */

/**
 * A field's error that tells a missing value from one of another type: zod's `error` option says
 * only one thing for both, and `{"model": 1}` is not a missing model.
 */
export const missingOrWrong = (missing: string, wrong: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? missing : wrong) });

/** A body read as text, parsed and checked against a schema. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("invalid_json", "The request body is not valid JSON");
  }
  // JSON can only spell a NUL as the escape \u0000 (a raw one is a syntax error), so a body without
  // that text holds none: most bodies are not walked, nor a path made for each of their values.
  if (text.includes("\\u0000")) refuseNul(body);
  return validate(schema, body);
}

/** Refuses a NUL character (U+0000) anywhere, keys included, rather than failing a write halfway through a request. */
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
    const issue = mostSpecific(parsed.error.issues[0]!);
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new AppError(400, "invalid_request", `${where}${issue.message}`, fieldErrors(parsed.error));
  }
  return parsed.data;
}

type Issue = z.core.$ZodIssue;

/**
 * The problem worth naming. A union that no branch matched says only "Invalid input": the branch
 * that got furthest into the value (its problem the deepest) says what is wrong with it, as
 * `content.1.type` of a message's parts does. A body that is not an object at all is said so.
 */
function mostSpecific(issue: Issue): { path: PropertyKey[]; message: string } {
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const branches = issue.errors.flatMap((branch) => (branch[0] ? [mostSpecific(branch[0])] : []));
    const deepest = branches.reduce<(typeof branches)[number] | undefined>((best, b) => (!best || b.path.length > best.path.length ? b : best), undefined);
    if (deepest && deepest.path.length > 0) return { path: [...issue.path, ...deepest.path], message: deepest.message };
    const expected = issue.errors.map((branch) => (branch[0]?.code === "invalid_type" && branch[0].path.length === 0 ? branch[0].expected : undefined));
    if (expected.every((e) => e !== undefined)) return { path: issue.path, message: `Invalid input: expected ${[...new Set(expected)].join(" or ")}` };
  }
  if (issue.path.length === 0 && issue.code === "invalid_type" && issue.expected === "object") return { path: [], message: "The request body must be a JSON object" };
  return issue;
}
