import type { z } from "zod";
import type { AdminAuth } from "../../admin/auth.js";
import type { FailedLogins } from "../../admin/failed-logins.js";
import type { DatabaseLifecycle } from "../../db/lifecycle.js";
import { isUniqueViolation } from "../../db/queries/admin.js";
import { AppError } from "../../errors.js";
import type { Gateway } from "../../gateway/gateway.js";
import type { Registry } from "../../gateway/registry.js";
import type { Logger } from "../../logger.js";
import type { LocalWorkerStatus } from "../health.js";
import type { RateLimits } from "../../ratelimit/rate-limits.js";
import type { Context } from "hono";
import type { LorebookService } from "../../chat/lorebooks.js";
import type { ApiKeys } from "../../api-keys/api-keys.js";
import type { ChatService } from "../../chat/service.js";
import type { CharacterService } from "../../chat/characters.js";

export type AdminDeps = {
  database: DatabaseLifecycle;
  characters: CharacterService;
  lorebooks: LorebookService;
  apiKeys: ApiKeys;
  chat: ChatService;
  registry: Registry;
  gateway: Gateway;
  auth: AdminAuth;
  log: Logger;
  adminSessionMs: number;
  /** Reloads the routing rows, so the response to a change is sent only once the next request will see it. */
  reloadRegistry: () => Promise<void>;
  localWorker: () => LocalWorkerStatus | null;
  /** Failed logins are counted on the shared store, so N instances do not give N times the tries. */
  rateLimits: RateLimits;
  address: (c: Context) => string;
  isHttps: (c: Context) => boolean;
  /** Wrong admin tokens per address, from the login form and Bearer headers alike. */
  failedLogins: FailedLogins;
  /** Why a provider may not read this environment variable, if it may not. */
  secretNameProblem: (name: string) => string | undefined;
  allowPrivateUpstreams: boolean;
  instanceId: string;
};

/** The current row's editable fields, to merge a PATCH onto before checking the whole. */
export function editable<S extends z.ZodObject>(schema: S, row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(schema.shape).map((k) => [k, row[k]]));
}

/** A unique index said no: the field it guards gets the message, as the form's own check would. */
export async function unique<T>(write: Promise<T>, field: string, message: string): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError(409, "duplicate", message, { [field]: message });
    throw err;
  }
}
