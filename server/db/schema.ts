import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  primaryKey,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

import type { Persona } from "../../contracts/persona.js";
import type { SamplingParams } from "../../contracts/openai.js";
import type { CardLorebook, CardV3 } from "../../contracts/character-card.js";
import type { PromptReport } from "../../contracts/prompt-report.js";
import { DIFFICULTIES, type DebriefView, type Rubric } from "../../contracts/practice.js";
import { BUDGET_PERIODS } from "../../contracts/api-keys.js";
import type { FailoverRules, OpenRouterPreferences } from "../../contracts/admin-schemas.js";
import { TOKENIZERS } from "../../contracts/tokenizers.js";
import { AUTH_SCHEMES, CONTENT_RATINGS, MESSAGE_ROLES, PROVIDER_KINDS, REQUEST_STATUSES, SCENARIO_CATEGORIES } from "../../contracts/enums.js";

export type { SamplingParams };

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const scenarios = pgTable("scenarios", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  title: text("title").notNull(),
  characterName: text("character_name").notNull(),
  description: text("description").notNull(),
  category: text("category", { enum: SCENARIO_CATEGORIES }).notNull(),
  tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
  contentRating: text("content_rating", { enum: CONTENT_RATINGS }).notNull().default("general"),
  openingMessage: text("opening_message").notNull(),
  avatarStyle: text("avatar_style").notNull(),
  avatarSeed: text("avatar_seed").notNull(),
  /** Private: never leaves the server. Only the prompt builder reads it. */
  systemPrompt: text("system_prompt").notNull(),
  isActive: boolean("is_active").notNull().default(true),
  sortOrder: integer("sort_order").notNull().default(0),
  /** The task whose models reply in this scenario; null is `roleplay`. */
  task: text("task"),
  /** A model key tried before the task's others; null follows the task's routing order. */
  modelKey: text("model_key"),
  /** A practice scenario's objectives, as the person sees them before they start (empty for a story). */
  objectives: text("objectives").array().notNull().default(sql`'{}'::text[]`),
  /** Private, like the system prompt: per objective, what met / partly / not met look like; only the evaluator reads it. */
  rubrics: jsonb("rubrics").$type<Rubric[]>().notNull().default([]),
  /** The person's messages a practice conversation runs to before the debrief is offered; null: no limit. */
  turnLimit: integer("turn_limit"),
  difficulty: text("difficulty", { enum: DIFFICULTIES }),
  /** Whose character this is: null for the gallery (an admin's); a client's id for a person's own ("My characters"). */
  ownerClientId: text("owner_client_id"),
  /** The character card it came from, whole (V3): what Parley does not use rides along for export. */
  card: jsonb("card").$type<CardV3>(),
  /** SHA-256 of the card as imported: the same card imported again is recognised. */
  cardHash: text("card_hash"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [index("scenarios_owner_card_idx").on(t.ownerClientId, t.cardHash)]);

/** Raw bytes (an image): PGlite hands back a Uint8Array, postgres.js a Buffer; both are bytes. */
const bytea = customType<{ data: Uint8Array }>({ dataType: () => "bytea" });

/**
 * A character's own picture, from its card (the PNG itself, or a CHARX's icon): kept in the database
 * so every instance can serve it, and a PNG export can carry the card in it again.
 */
export const characterImages = pgTable("character_images", {
  scenarioId: uuid("scenario_id")
    .primaryKey()
    .references(() => scenarios.id, { onDelete: "cascade" }),
  contentType: text("content_type").notNull(),
  bytes: bytea("bytes").notNull(),
  /** The picture resized for avatars (WebP); null for one stored before resizing existed: the original is served. */
  thumb: bytea("thumb"),
  createdAt: createdAt(),
});

/**
 * Every file a CHARX card came with besides card.json (its icon, expressions, backgrounds, RisuAI
 * modules), at its path in the archive: the card's CHARX export carries them all back.
 */
export const characterAssets = pgTable(
  "character_assets",
  {
    scenarioId: uuid("scenario_id")
      .notNull()
      .references(() => scenarios.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    bytes: bytea("bytes").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scenarioId, t.path] })],
);

/**
 * Lorebooks (World Info): a card's own book, or one imported on its own, kept in the card spec's
 * shape (V3 `lorebook`, whole, `extensions` included) so an export gives it back. Owned like
 * characters: a client's, or the gallery's (null, an admin's).
 */
export const lorebooks = pgTable(
  "lorebooks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerClientId: text("owner_client_id"),
    name: text("name").notNull(),
    book: jsonb("book").$type<CardLorebook>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("lorebooks_owner_idx").on(t.ownerClientId)],
);

/** Which lorebooks a character's prompt draws on; `embedded`: the one its card carries (it goes back into the card's export). */
export const scenarioLorebooks = pgTable(
  "scenario_lorebooks",
  {
    scenarioId: uuid("scenario_id")
      .notNull()
      .references(() => scenarios.id, { onDelete: "cascade" }),
    lorebookId: uuid("lorebook_id")
      .notNull()
      .references(() => lorebooks.id, { onDelete: "cascade" }),
    embedded: boolean("embedded").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.scenarioId, t.lorebookId] }), index("scenario_lorebooks_book_idx").on(t.lorebookId)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** The anonymous client (httpOnly cookie) that owns the session. */
    clientId: text("client_id").notNull(),
    scenarioId: uuid("scenario_id")
      .notNull()
      .references(() => scenarios.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    /** Last activity: moves on every message. */
    updatedAt: updatedAt(),
    /**
     * Set while a reply is being written, by whichever instance writes it, so a second message on
     * another instance is refused; it lapses by itself if that instance dies mid-reply.
     */
    replyingUntil: timestamp("replying_until", { withTimezone: true }),
    /** The instance holding the claim: it clears its own claims when it starts again after a crash. */
    replyingInstance: text("replying_instance"),
    /**
     * The end of the conversation's active path: the thread is this message and its ancestors.
     * Messages form a tree (swipes and edits are siblings), so the path is where the person is.
     */
    leafId: uuid("leaf_id").references((): AnyPgColumn => messages.id, { onDelete: "set null" }),
    /** The person's name for the conversation; null shows a default taken from its first message. */
    title: text("title"),
    /** Soft deletion from the person's list: restorable (Undo) until purged with deleted messages. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    /** Who the person is in this conversation, when not their usual persona (`personas`). */
    persona: jsonb("persona").$type<Persona>(),
  },
  (t) => [index("sessions_client_idx").on(t.clientId, t.updatedAt)],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Insertion order; timestamps can tie within a millisecond. */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    /** The message this one answers or follows; null for the opening message (and its alternatives). */
    parentId: uuid("parent_id").references((): AnyPgColumn => messages.id, { onDelete: "cascade" }),
    role: text("role", { enum: MESSAGE_ROLES }).notNull(),
    content: text("content").notNull(),
    /**
     * stop | length | aborted | error | opening (the character's first line) | streaming (being
     * written now: saved every few seconds) | interrupted (was streaming when its instance died).
     */
    finishReason: text("finish_reason"),
    /** Set when a regenerate replaced this reply; the row is kept for history. */
    supersededAt: timestamp("superseded_at", { withTimezone: true }),
    /** Set on a version the person wrote by editing another (a character's line rewritten, say). */
    editedAt: timestamp("edited_at", { withTimezone: true }),
    /** Soft deletion: the message and what hangs below it leave the thread; restorable until purged. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    /**
     * On a reply: the oldest message of the thread its prompt held (older ones were left out to fit
     * the model's window). The chat draws "the character does not remember above this line" there.
     */
    contextFromId: uuid("context_from_id"),
    /**
     * The last leaf the person was at below this message, recorded when they switched to another
     * version of it: switching back brings that branch back as they left it.
     */
    lastLeafId: uuid("last_leaf_id"),
    /**
     * Tokens in the content, per tokenizer that counted it (`{"o200k": 129}`): a long thread is
     * fitted to a model's window without tokenizing its history again on every reply.
     */
    tokenCounts: jsonb("token_counts").$type<Record<string, number>>().notNull().default({}),
    provider: text("provider"),
    model: text("model"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    ttftMs: integer("ttft_ms"),
    totalMs: integer("total_ms"),
    error: text("error"),
    createdAt: createdAt(),
  },
  (t) => [
    index("messages_session_idx").on(t.sessionId, t.seq),
    index("messages_parent_idx").on(t.parentId),
    // Few rows are ever mid-stream; start-up finds those a crash left behind without a scan.
    index("messages_streaming_idx").on(t.sessionId).where(sql`${t.finishReason} = 'streaming'`),
  ],
);

/**
 * What the model saw for one reply: the parts of its prompt around the history (the history itself
 * by reference: its messages never change), what was trimmed to fit, and the lore that fired.
 * Private like a system prompt: shown to the character's owner, or an admin.
 */
export const replyPrompts = pgTable("reply_prompts", {
  messageId: uuid("message_id")
    .primaryKey()
    .references(() => messages.id, { onDelete: "cascade" }),
  report: jsonb("report").$type<PromptReport>().notNull(),
  createdAt: createdAt(),
});

/**
 * A practice conversation's debriefs: each run keeps its result (earlier ones are never replaced),
 * with the thread's end it judged. `result` is the checked answer, quotes linked to messages.
 */
export const debriefs = pgTable(
  "debriefs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    /** The leaf of the thread when it was judged. */
    leafId: uuid("leaf_id"),
    score: integer("score").notNull(),
    result: jsonb("result").$type<Omit<DebriefView, "id" | "createdAt" | "score">>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("debriefs_session_idx").on(t.sessionId, t.createdAt)],
);

/** The person's persona, one per browser (client): their name for `{{user}}` and what the character is told of them. */
export const personas = pgTable("personas", {
  clientId: text("client_id").primaryKey(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  updatedAt: updatedAt(),
});

export const apiProviders = pgTable("api_providers", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  displayName: text("display_name").notNull(),
  kind: text("kind", { enum: PROVIDER_KINDS }).notNull(),
  baseUrl: text("base_url").notNull(),
  authScheme: text("auth_scheme", { enum: AUTH_SCHEMES }).notNull().default("bearer"),
  authHeaderName: text("auth_header_name").notNull().default("Authorization"),
  /** The name of an environment variable holding the key; the key itself is never stored. */
  secretName: text("secret_name"),
  isActive: boolean("is_active").notNull().default(true),
  extraHeaders: jsonb("extra_headers").$type<Record<string, string>>().notNull().default({}),
  /** OpenRouter rows: its `provider` object (order, only, ignore, data collection, sort, max price), sent with each request. */
  routingPreferences: jsonb("routing_preferences").$type<OpenRouterPreferences>(),
  /** What a failed try with a given HTTP status leads to, over the defaults (docs: Routing and reliability). */
  failoverRules: jsonb("failover_rules").$type<FailoverRules>().notNull().default({}),
  /** Per-provider timeouts; null means the deployment default (UPSTREAM_*_TIMEOUT_MS). */
  connectTimeoutMs: integer("connect_timeout_ms"),
  firstByteTimeoutMs: integer("first_byte_timeout_ms"),
  idleTimeoutMs: integer("idle_timeout_ms"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const apiModels = pgTable(
  "api_models",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    providerId: uuid("provider_id")
      .notNull()
      .references(() => apiProviders.id, { onDelete: "cascade" }),
    modelKey: text("model_key").notNull(),
    displayName: text("display_name").notNull(),
    modality: text("modality").notNull().default("text"),
    task: text("task").notNull(),
    modelFamily: text("model_family"),
    isActive: boolean("is_active").notNull().default(true),
    isDefault: boolean("is_default").notNull().default(false),
    priority: integer("priority").notNull().default(100),
    contextLength: integer("context_length"),
    /** The model reads image parts: a request carrying one goes only to models that do. */
    acceptsImages: boolean("accepts_images").notNull().default(false),
    /** Equal-priority models with a weight share the traffic in proportion to it; null: the routing order as it is. */
    weight: integer("weight"),
    /** How the model's tokens are counted (contracts/tokenizers.ts); null picks from the model key. */
    tokenizer: text("tokenizer", { enum: TOKENIZERS }),
    inputPricePerMtok: doublePrecision("input_price_per_mtok"),
    outputPricePerMtok: doublePrecision("output_price_per_mtok"),
    /** Sampling that differs from the task profile for this model, per task: `{roleplay: {temperature: 0.7}}`. */
    paramOverrides: jsonb("param_overrides").$type<Record<string, Partial<SamplingParams>>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("api_models_provider_model_task_idx").on(t.providerId, t.modelKey, t.task)],
);

/** Sampling per task, as data: an admin can tune it, and it names the tasks that exist. */
export const taskProfiles = pgTable("task_profiles", {
  task: text("task").primaryKey(),
  description: text("description").notNull().default(""),
  temperature: doublePrecision("temperature").notNull(),
  maxTokens: integer("max_tokens").notNull(),
  topP: doublePrecision("top_p").notNull(),
  updatedAt: updatedAt(),
});

/**
 * The Parley processes on this database and the routing version each runs on: an admin's change
 * is answered once every live instance has loaded it.
 */
export const instances = pgTable("instances", {
  id: text("id").primaryKey(),
  registryVersion: integer("registry_version").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  seenAt: timestamp("seen_at", { withTimezone: true }).notNull().defaultNow(),
});

export const systemConfig = pgTable("system_config", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: updatedAt(),
});

export const requestLog = pgTable(
  "request_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    createdAt: createdAt(),
    clientId: text("client_id"),
    sessionId: uuid("session_id"),
    task: text("task"),
    requestedModel: text("requested_model"),
    provider: text("provider"),
    model: text("model"),
    status: text("status", { enum: REQUEST_STATUSES }).notNull(),
    attempts: jsonb("attempts").$type<unknown[]>().notNull().default([]),
    ttftMs: integer("ttft_ms"),
    totalMs: integer("total_ms"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    tokensEstimated: boolean("tokens_estimated").notNull().default(false),
    cost: doublePrecision("cost"),
    error: text("error"),
    /** The Parley API key (a row of api_keys) a /v1 request came with. */
    apiKeyId: uuid("api_key_id"),
    /** Prompt tokens read from and written to the provider's cache; tokens spent reasoning; the provider's generation id. */
    cachedTokens: integer("cached_tokens"),
    cacheWriteTokens: integer("cache_write_tokens"),
    reasoningTokens: integer("reasoning_tokens"),
    generationId: text("generation_id"),
  },
  (t) => [index("request_log_created_idx").on(t.createdAt), index("request_log_session_idx").on(t.sessionId), index("request_log_key_idx").on(t.apiKeyId, t.createdAt)],
);

/**
 * Parley API keys as rows (PARLEY_API_KEYS still works for keys without limits): the secret's
 * SHA-256 only, with what the key may use, how fast and how much. A change bumps the routing
 * version (migration 0014's trigger), so every instance sees a revocation before the admin's
 * answer; what changes per request (use, spend) lives in the tables below, which do not.
 */
export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  /** The secret's first characters, to recognise it by (`pk-parley-AbC1`). */
  prefix: text("prefix").notNull(),
  secretHash: text("secret_hash").notNull().unique(),
  ownerNote: text("owner_note").notNull().default(""),
  allowedTasks: text("allowed_tasks").array().notNull().default(sql`'{}'::text[]`),
  allowedModels: text("allowed_models").array().notNull().default(sql`'{}'::text[]`),
  rpm: integer("rpm"),
  tpm: integer("tpm"),
  budgetUsd: doublePrecision("budget_usd"),
  budgetPeriod: text("budget_period", { enum: BUDGET_PERIODS }).notNull().default("monthly"),
  expiresAt: timestamp("expires_at", { withTimezone: true }),
  enabled: boolean("enabled").notNull().default(true),
  /** Set when revoked: the key never works again (its row stays, so the request log keeps its name). */
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** A key's spend per budget period (the period's start, UTC), charged from each request's real cost when it ends. */
export const apiKeySpend = pgTable(
  "api_key_spend",
  {
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    costUsd: doublePrecision("cost_usd").notNull().default(0),
    requests: integer("requests").notNull().default(0),
    tokens: bigint("tokens", { mode: "number" }).notNull().default(0),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.periodStart] })],
);

/**
 * A key's requests and tokens per minute, for its rpm and tpm when no Redis is configured (the
 * database holds them across instances). Old minutes are deleted as new ones are written.
 */
export const apiKeyMinutes = pgTable(
  "api_key_minutes",
  {
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    minute: bigint("minute", { mode: "number" }).notNull(),
    requests: integer("requests").notNull().default(0),
    tokens: bigint("tokens", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.minute] })],
);

/** Admin logins: the cookie holds a random token, the table only its SHA-256 (a leaked row opens nothing). */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    /** Sent back in X-CSRF-Token on every state-changing call made with the cookie. */
    csrfToken: text("csrf_token").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("admin_sessions_expires_idx").on(t.expiresAt)],
);

export type ScenarioRow = typeof scenarios.$inferSelect;
export type NewScenarioRow = typeof scenarios.$inferInsert;
export type SessionRow = typeof sessions.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type NewMessageRow = typeof messages.$inferInsert;
export type ProviderRow = typeof apiProviders.$inferSelect;
export type ModelRow = typeof apiModels.$inferSelect;
export type RequestLogRow = typeof requestLog.$inferSelect;
export type RequestLogInsert = typeof requestLog.$inferInsert;
export type TaskProfileRow = typeof taskProfiles.$inferSelect;
