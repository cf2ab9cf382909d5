import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { KEY_PREFIX, type ApiKeyInput, type ApiKeyView } from "../../contracts/api-keys.js";
import type { DatabaseLifecycle } from "../db/lifecycle.js";
import { chargeKey, getKeyRow, insertKey, listKeyRows, spendOf, spentSince, updateKey, type ApiKeyRow } from "../db/queries/api-keys.js";
import { AppError, notFound } from "../errors.js";
import type { Logger } from "../logger.js";
import { errorFields } from "../error-report.js";
import { merge } from "../merge.js";
import { msUntilRoom, overLimit, type KeyCounters } from "./counters.js";
import { nextReset, periodStart } from "./periods.js";

export type { ApiKeyRow };

/** Who a /v1 request is: a key of the Keys tab (a row, with its limits), or one of PARLEY_API_KEYS (no limits). */
export type KeyAccess = { kind: "row"; key: ApiKeyRow; client: string } | { kind: "env"; client: string };

/** One-shot: crypto.hash costs half of a Hash object's create, update and digest, on every /v1 request. */
const sha256 = (s: string) => hash("sha256", s, "buffer");

/** A new secret: recognisable by its prefix, 256 random bits after it. */
const newSecret = () => `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
const prefixOf = (secret: string) => secret.slice(0, KEY_PREFIX.length + 4);

/** A limit refused: 429 with when to try again (the route sets Retry-After from it). */
export class KeyLimitError extends AppError {
  constructor(
    code: "rate_limited" | "insufficient_quota",
    message: string,
    readonly retryAfterS: number | undefined,
  ) {
    super(429, code, message);
  }
}

/**
 * Parley API keys: found by the SHA-256 of the secret in an in-memory ring (reloaded with the
 * routing rows on every change, on every instance), refused when revoked, off or expired, held to
 * what they may use, their requests and tokens per minute (shared counters) and their budget
 * (spend in the database, charged from each request's real cost when it ends — so one request
 * in flight may take a key past its budget, never two after it).
 */
export function createApiKeys(deps: { database: DatabaseLifecycle; counters: KeyCounters; envKeys: string[]; log: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const envDigests = deps.envKeys.map((k) => sha256(k));
  let byHash = new Map<string, ApiKeyRow>();
  let byId = new Map<string, ApiKeyRow>();

  /** The ring: every key row, by its secret's hash (called by the registry sync). */
  function replace(rows: ApiKeyRow[]) {
    byHash = new Map(rows.map((r) => [r.secretHash, r]));
    byId = new Map(rows.map((r) => [r.id, r]));
  }

  /** Whether /v1 is on at all: some key exists. */
  const enabled = () => envDigests.length > 0 || byHash.size > 0;

  /** The key a secret opens, or the 401 that says why not (never which part of the secret was wrong). */
  function authenticate(secret: string | undefined): KeyAccess {
    if (!enabled()) throw new AppError(401, "api_disabled", "The OpenAI-compatible API is off: create a key in the dashboard's Keys tab, or set PARLEY_API_KEYS");
    const invalid = () => new AppError(401, "invalid_api_key", "Incorrect or missing API key: send Authorization: Bearer <key>");
    if (!secret) throw invalid();
    const digest = sha256(secret);
    const row = byHash.get(digest.toString("hex"));
    if (row) {
      if (row.revokedAt) throw new AppError(401, "invalid_api_key", "This API key has been revoked");
      if (!row.enabled) throw new AppError(401, "invalid_api_key", "This API key is switched off");
      if (row.expiresAt && row.expiresAt.getTime() <= now()) throw new AppError(401, "invalid_api_key", `This API key expired on ${row.expiresAt.toISOString()}`);
      return { kind: "row", key: row, client: `apikey:${row.id}` };
    }
    // Compared as fixed-length digests in constant time, so timing says nothing about a key.
    if (envDigests.some((k) => timingSafeEqual(k, digest))) return { kind: "env", client: `key:${digest.toString("hex").slice(0, 12)}` };
    throw invalid();
  }

  /**
   * Before the upstream is called: what the key may use, then its rpm (this request counted),
   * its tpm and its budget. A refusal takes the request back out of the count.
   */
  async function admit(access: KeyAccess, want: { task: string; model?: string }): Promise<void> {
    if (access.kind !== "row") return;
    const k = access.key;
    if (k.allowedTasks.length && !k.allowedTasks.includes(want.task)) {
      throw new AppError(403, "key_not_allowed", `This key may not use the ${want.task} task; it may use ${k.allowedTasks.join(", ")}`);
    }
    if (want.model && k.allowedModels.length && !k.allowedModels.includes(want.model)) {
      throw new AppError(403, "key_not_allowed", `This key may not use the model ${want.model}; it may use ${k.allowedModels.join(", ")}`);
    }
    const at = now();
    // The key's window and its spend are asked for at once (one wait before the upstream is called,
    // not two); the rates are still judged first, and a refusal takes the counted request back.
    const [w, spent] = await Promise.all([
      k.rpm !== null ? deps.counters.countRequest(k.id, at) : k.tpm !== null ? deps.counters.peek(k.id, at) : undefined,
      k.budgetUsd !== null ? spentSince(deps.database.require(), k.id, periodStart(k.budgetPeriod, new Date(at))) : undefined,
    ]);
    if (w) {
      const refuse = async (field: "requests" | "tokens", limit: number, what: string) => {
        if (k.rpm !== null) await deps.counters.uncountRequest(k.id, at).catch(() => {});
        // The window as it was before this request was counted in it.
        const before = k.rpm !== null ? merge(w, { current: merge(w.current, { requests: w.current.requests - 1 }) }) : w;
        const ms = msUntilRoom(before, field, limit, at);
        throw new KeyLimitError("rate_limited", `This key is limited to ${limit} ${what} per minute; try again in ${Math.max(1, Math.ceil(ms / 1000))} s`, Math.max(1, Math.ceil(ms / 1000)));
      };
      if (k.rpm !== null && overLimit(w, "requests", k.rpm)) await refuse("requests", k.rpm, "requests");
      if (k.tpm !== null && overLimit(w, "tokens", k.tpm)) await refuse("tokens", k.tpm, "tokens");
    }
    if (k.budgetUsd !== null && spent !== undefined && spent >= k.budgetUsd) {
      if (k.rpm !== null) await deps.counters.uncountRequest(k.id, at).catch(() => {});
      const reset = nextReset(k.budgetPeriod, new Date(at));
      throw new KeyLimitError(
        "insufficient_quota",
        `This key has spent its budget of $${k.budgetUsd} ${k.budgetPeriod === "never" ? "in all" : `this ${k.budgetPeriod.replace("ly", "").replace("dai", "day")}`}: ${reset ? `it resets at ${reset.toISOString()}` : "it does not reset; an admin can raise it"}`,
        reset ? Math.max(1, Math.ceil((reset.getTime() - at) / 1000)) : undefined,
      );
    }
  }

  /** When a request ends: its tokens against the key's tpm, its real cost against the budget. */
  async function charge(access: KeyAccess, record: { promptTokens: number; completionTokens: number; cost: number | null }): Promise<void> {
    if (access.kind !== "row") return;
    const k = access.key;
    const tokens = record.promptTokens + record.completionTokens;
    const at = now();
    try {
      await Promise.all([
        k.tpm !== null && tokens > 0 ? deps.counters.addTokens(k.id, tokens, at) : undefined,
        chargeKey(deps.database.require(), k.id, periodStart(k.budgetPeriod, new Date(at)), record.cost ?? 0, tokens),
      ]);
    } catch (err) {
      deps.log.warn({ ...errorFields(err), key: k.name }, "charging a key's use failed; it is not counted");
    }
  }

  // The dashboard's side.

  async function view(rows: ApiKeyRow[]): Promise<ApiKeyView[]> {
    const at = new Date(now());
    const periods = rows.map((r) => ({ keyId: r.id, periodStart: periodStart(r.budgetPeriod, at) }));
    const { spent, lastUsed } = await spendOf(deps.database.require(), periods);
    return rows.map(({ secretHash: _, revokedAt, ...r }) => {
      const s = spent.get(r.id) ?? 0;
      return {
        ...r,
        enabled: r.enabled && !revokedAt,
        revoked: revokedAt !== null,
        lastUsedAt: lastUsed.get(r.id) ?? null,
        spentUsd: s,
        remainingUsd: r.budgetUsd === null ? null : Math.max(0, r.budgetUsd - s),
        resetsAt: r.budgetUsd === null ? null : nextReset(r.budgetPeriod, at),
      };
    });
  }

  const db = () => deps.database.require();
  const load = async (id: string) => {
    const row = await getKeyRow(db(), id);
    if (!row) throw notFound("API key");
    return row;
  };
  /** The form's values as the row's: the expiry a Date. */
  function values<T extends Partial<ApiKeyInput>>(input: T): Omit<T, "expiresAt"> & { expiresAt?: Date | null } {
    const { expiresAt, ...rest } = input;
    return { ...rest, ...(expiresAt !== undefined ? { expiresAt: expiresAt === null ? null : new Date(expiresAt) } : {}) };
  }

  return {
    replace,
    /** A key's name, for metrics and logs (never its secret). */
    keyName: (id: string) => byId.get(id)?.name,
    authenticate,
    admit,
    charge,
    async list() {
      return view(await listKeyRows(db()));
    },
    /** A new key: its secret is in this answer and nowhere else, ever. */
    async create(input: ApiKeyInput) {
      const secret = newSecret();
      const row = await insertKey(db(), { ...values(input), prefix: prefixOf(secret), secretHash: sha256(secret).toString("hex") });
      return { key: (await view([row]))[0]!, secret };
    },
    async update(id: string, patch: Partial<ApiKeyInput>) {
      const row = await load(id);
      if (row.revokedAt) throw new AppError(409, "invalid_request", "A revoked key cannot be changed; create a new one");
      return (await view([(await updateKey(db(), id, values(patch)))!]))[0]!;
    },
    /** A new secret for the same key (its limits, spend and history stay); the old secret stops working. */
    async rotate(id: string) {
      const row = await load(id);
      if (row.revokedAt) throw new AppError(409, "invalid_request", "A revoked key cannot be rotated; create a new one");
      const secret = newSecret();
      const updated = await updateKey(db(), id, { prefix: prefixOf(secret), secretHash: sha256(secret).toString("hex") });
      return { key: (await view([updated!]))[0]!, secret };
    },
    /** For good: the row stays (the request log keeps the key's name), the secret never works again. */
    async revoke(id: string) {
      await load(id);
      return (await view([(await updateKey(db(), id, { revokedAt: new Date(), enabled: false }))!]))[0]!;
    },
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
