/**
 * What an admin may write, as zod schemas shared by the server (which enforces them) and the
 * dashboard's forms (which show the same messages next to the fields before sending). This module
 * is imported by the web app, so it may import nothing but zod and other browser-safe modules.
 *
 * Each resource has a full schema (a form, or an edited row merged with a PATCH, is checked
 * against it), a create schema with defaults for scripts, and a patch schema of optional fields.
 */
import { z } from "zod";
import { TOKENIZERS } from "./tokenizers.js";
import { AVATAR_STYLES, CARD_AVATAR_STYLE, MAX_SEED_LENGTH } from "./avatar-styles.js";
import { AUTH_SCHEMES, CONTENT_RATINGS, PROVIDER_KINDS, SCENARIO_CATEGORIES } from "./enums.js";
import { DIFFICULTIES, MAX_OBJECTIVES, rubricSchema } from "./practice.js";
import { PROVIDER_KIND_FACTS } from "./provider-kinds.js";

const text = (max: number) => z.string().trim().min(1, "Required").max(max, `At most ${max} characters`);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`);
const nullableNumber = <T extends z.ZodNumber>(n: T) => n.nullable();

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Headers a provider row may not set: the credentials and the protocol are Parley's to send. */
export const RESERVED_HEADERS = ["authorization", "content-type", "accept", "content-length", "host", "cookie"];

const headerName = z.string().trim().regex(HEADER_NAME, "Not a valid HTTP header name");
const headerValue = z
  .string()
  .max(1000, "At most 1000 characters")
  .refine((v) => !/[\r\n\0]/.test(v), "A header value cannot contain line breaks");
const timeoutMs = nullableNumber(z.number().int("Whole milliseconds").min(100, "At least 100 ms").max(3_600_000, "At most an hour"));

const providerShape = {
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "Lower-case letters, digits, - and _, starting with a letter or digit (at most 63)"),
  displayName: text(100),
  kind: z.enum(PROVIDER_KINDS, "Choose openrouter, openai_compatible or chat_worker"),
  baseUrl: z
    .string()
    .trim()
    .max(500, "At most 500 characters")
    .pipe(z.url({ protocol: /^https?$/, error: "Must be an http:// or https:// URL" })),
  authScheme: z.enum(AUTH_SCHEMES, "Choose bearer, header or none"),
  authHeaderName: headerName,
  /** The environment variable holding the key: its name only, never the key. */
  secretName: z
    .string()
    .trim()
    .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "An environment variable name, like OPENROUTER_API_KEY")
    .nullable(),
  isActive: z.boolean(),
  extraHeaders: z.record(headerName, headerValue),
  connectTimeoutMs: timeoutMs,
  firstByteTimeoutMs: timeoutMs,
  idleTimeoutMs: timeoutMs,
  /** OpenRouter rows only: which upstream providers serve (order, only, ignore, data collection, sort, max price). */
  routingPreferences: z.lazy(() => openRouterPreferencesSchema).nullable(),
  /** Over the default rule per status (429 retry after, 5xx next, 400 stop, …). */
  failoverRules: z.lazy(() => failoverRulesSchema),
};

type ProviderShape = z.infer<z.ZodObject<typeof providerShape>>;

/** OpenRouter's provider routing preferences, sent as its `provider` object with every request of the row. */
export const openRouterPreferencesSchema = z
  .object({
    order: z.array(z.string().trim().min(1)).max(50),
    only: z.array(z.string().trim().min(1)).max(50),
    ignore: z.array(z.string().trim().min(1)).max(50),
    allow_fallbacks: z.boolean(),
    require_parameters: z.boolean(),
    data_collection: z.enum(["allow", "deny"], 'data_collection is "allow" or "deny"'),
    sort: z.enum(["price", "throughput", "latency"], 'sort is "price", "throughput" or "latency"'),
    max_price: z.object({ prompt: z.number().min(0), completion: z.number().min(0), request: z.number().min(0), image: z.number().min(0) }).partial().strict(),
  })
  .partial()
  .strict();
export type OpenRouterPreferences = z.infer<typeof openRouterPreferencesSchema>;

/** Per HTTP status a provider answers with: go to the next model, stop (the answer goes to the client), or wait and retry as Retry-After says. */
export const FAILOVER_ACTIONS = ["next", "stop", "retry_after"] as const;
export const failoverRulesSchema = z.record(
  z.string().regex(/^[1-5][0-9][0-9]$/, "An HTTP status, like 429 or 503"),
  z.enum(FAILOVER_ACTIONS, `Choose ${FAILOVER_ACTIONS.join(", ")}`),
);
export type FailoverRules = z.infer<typeof failoverRulesSchema>;

function checkProvider(p: ProviderShape, ctx: z.RefinementCtx) {
  for (const k of Object.keys(p.extraHeaders)) {
    const lower = k.toLowerCase();
    if (RESERVED_HEADERS.includes(lower) || lower === p.authHeaderName.toLowerCase()) {
      ctx.addIssue({ code: "custom", path: ["extraHeaders"], message: `"${k}" is set by Parley and cannot be overridden here` });
    }
  }
  if (p.routingPreferences && !PROVIDER_KIND_FACTS[p.kind].routingPreferences) {
    ctx.addIssue({ code: "custom", path: ["routingPreferences"], message: "Provider preferences are OpenRouter's: only an OpenRouter row takes them" });
  }
  if (p.authScheme !== "none" && !p.secretName) {
    ctx.addIssue({ code: "custom", path: ["secretName"], message: "Name the environment variable that holds the key, or choose no authentication" });
  }
  if (p.authScheme === "bearer" && p.authHeaderName.toLowerCase() !== "authorization") {
    ctx.addIssue({ code: "custom", path: ["authHeaderName"], message: "Bearer keys are sent in Authorization; choose the header scheme for another header" });
  }
}

export const providerSchema = z.object(providerShape).superRefine(checkProvider);
export const providerCreateSchema = z
  .object({
    ...providerShape,
    authScheme: providerShape.authScheme.default("bearer"),
    authHeaderName: providerShape.authHeaderName.default("Authorization"),
    secretName: providerShape.secretName.default(null),
    isActive: providerShape.isActive.default(true),
    extraHeaders: providerShape.extraHeaders.default({}),
    connectTimeoutMs: timeoutMs.default(null),
    firstByteTimeoutMs: timeoutMs.default(null),
    idleTimeoutMs: timeoutMs.default(null),
    routingPreferences: providerShape.routingPreferences.default(null),
    failoverRules: providerShape.failoverRules.default({}),
  })
  .superRefine(checkProvider);
export const providerPatchSchema = z.object(providerShape).partial().strict();
export type ProviderInput = z.infer<typeof providerSchema>;

const price = nullableNumber(z.number().min(0, "A price cannot be negative").max(10_000, "At most 10 000 per million tokens"));

export const samplingOverrideSchema = z
  .object({
    temperature: z.number().min(0, "0 to 2").max(2, "0 to 2"),
    max_tokens: z.number().int("A whole number").min(1, "At least 1").max(131_072, "At most 131 072"),
    top_p: z.number().gt(0, "Above 0, at most 1").max(1, "Above 0, at most 1"),
  })
  .partial()
  .strict();

const modelShape = {
  providerId: z.uuid("Choose a provider"),
  modelKey: z
    .string()
    .trim()
    .min(1, "Required")
    .max(200, "At most 200 characters")
    // Printable ASCII: a model key goes into HTTP headers (x-parley-model) and upstream URLs' bodies as is.
    .regex(/^[\x21-\x7e]+$/, "A model key is printable ASCII without spaces (like anthropic/claude-3-haiku)"),
  displayName: text(120),
  task: z.string().trim().min(1, "Choose a task"),
  modelFamily: optionalText(60).nullable(),
  isActive: z.boolean(),
  isDefault: z.boolean(),
  priority: z.number().int("A whole number").min(0, "0 or more").max(1_000_000, "At most 1 000 000"),
  contextLength: nullableNumber(z.number().int("A whole number").min(1, "At least 1 token").max(10_000_000, "At most 10 000 000")),
  /** It reads image parts (a /v1 request carrying one goes only to models that do). */
  acceptsImages: z.boolean(),
  /** Shares traffic with equal-priority models that have one, in proportion; null: none. */
  weight: z.number().int("A whole number").min(1, "At least 1").max(1000, "At most 1000").nullable(),
  /** How its tokens are counted when a prompt is fitted; null picks from the model key. */
  tokenizer: z.enum(TOKENIZERS, "Choose a tokenizer").nullable(),
  inputPricePerMtok: price,
  outputPricePerMtok: price,
  /** Sampling that differs from the task profile, per task: `{roleplay: {temperature: 0.7}}`. */
  paramOverrides: z.record(z.string(), samplingOverrideSchema),
};

type ModelShape = z.infer<z.ZodObject<typeof modelShape>>;

/** What the model rules check against: the tasks that exist, and the rows already there. */
export type ModelContext = {
  tasks: readonly string[];
  models: readonly { id: string; providerId: string; modelKey: string; task: string }[];
  /** The row being edited, which may keep its own key. */
  editing?: string;
};

const checkModel = (ctx: ModelContext) => (m: ModelShape, rc: z.RefinementCtx) => {
  if (!ctx.tasks.includes(m.task)) {
    rc.addIssue({ code: "custom", path: ["task"], message: `Unknown task "${m.task}"; choose one of ${ctx.tasks.join(", ")}` });
  }
  for (const t of Object.keys(m.paramOverrides)) {
    if (!ctx.tasks.includes(t)) rc.addIssue({ code: "custom", path: ["paramOverrides"], message: `Unknown task "${t}" in the overrides` });
  }
  const taken = ctx.models.some((o) => o.id !== ctx.editing && o.providerId === m.providerId && o.modelKey === m.modelKey && o.task === m.task);
  if (taken) rc.addIssue({ code: "custom", path: ["modelKey"], message: `This provider already has "${m.modelKey}" for the ${m.task} task` });
};

export const modelSchema = (ctx: ModelContext) => z.object(modelShape).superRefine(checkModel(ctx));
export const modelCreateSchema = (ctx: ModelContext) =>
  z
    .object({
      ...modelShape,
      modelFamily: modelShape.modelFamily.default(null),
      isActive: modelShape.isActive.default(true),
      isDefault: modelShape.isDefault.default(false),
      priority: modelShape.priority.default(100),
      contextLength: modelShape.contextLength.default(null),
      acceptsImages: modelShape.acceptsImages.default(false),
      weight: modelShape.weight.default(null),
      tokenizer: modelShape.tokenizer.default(null),
      inputPricePerMtok: price.default(null),
      outputPricePerMtok: price.default(null),
      paramOverrides: modelShape.paramOverrides.default({}),
    })
    .superRefine(checkModel(ctx));
export const modelPatchSchema = z.object(modelShape).partial().strict();
export type ModelInput = z.infer<ReturnType<typeof modelSchema>>;

const scenarioShape = {
  slug: z
    .string()
    .trim()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "Lower-case letters, digits and dashes (at most 64), as in upset-client"),
  title: text(120),
  characterName: text(80),
  description: text(1000),
  category: z.enum(SCENARIO_CATEGORIES, "Choose practice or story"),
  tags: z.array(z.string().trim().min(1, "An empty tag").max(30, "A tag has at most 30 characters")).max(12, "At most 12 tags"),
  contentRating: z.enum(CONTENT_RATINGS, "Choose general, teen or mature"),
  openingMessage: text(4000),
  // `card`: the character's own picture, from its card.
  avatarStyle: z.enum([...AVATAR_STYLES, CARD_AVATAR_STYLE], `Choose one of ${AVATAR_STYLES.join(", ")} or ${CARD_AVATAR_STYLE}`),
  avatarSeed: text(MAX_SEED_LENGTH),
  /** Private: sent to the model, never to a browser outside the dashboard. */
  systemPrompt: text(20_000),
  isActive: z.boolean(),
  sortOrder: z.number().int("A whole number").min(-1_000_000).max(1_000_000),
  task: z.string().trim().min(1).nullable(),
  modelKey: z.string().trim().min(1).nullable(),
  /** Practice: the objectives the person sees, and beside each (same order) its private rubric. */
  objectives: z.array(text(200)).max(MAX_OBJECTIVES, `At most ${MAX_OBJECTIVES} objectives`),
  rubrics: z.array(rubricSchema).max(MAX_OBJECTIVES),
  turnLimit: z.number().int("A whole number").min(2, "At least 2 turns").max(200, "At most 200 turns").nullable(),
  difficulty: z.enum(DIFFICULTIES, `Choose ${DIFFICULTIES.join(", ")}`).nullable(),
};

type ScenarioShape = z.infer<z.ZodObject<typeof scenarioShape>>;

export type ScenarioContext = {
  tasks: readonly string[];
  modelKeys: readonly string[];
  scenarios: readonly { id: string; slug: string }[];
  editing?: string;
};

const checkScenario = (ctx: ScenarioContext) => (s: ScenarioShape, rc: z.RefinementCtx) => {
  if (s.task !== null && !ctx.tasks.includes(s.task)) {
    rc.addIssue({ code: "custom", path: ["task"], message: `Unknown task "${s.task}"; choose one of ${ctx.tasks.join(", ")}` });
  }
  if (s.modelKey !== null && !ctx.modelKeys.includes(s.modelKey)) {
    rc.addIssue({ code: "custom", path: ["modelKey"], message: `No model has the key "${s.modelKey}"` });
  }
  if (s.rubrics.length !== s.objectives.length) {
    rc.addIssue({ code: "custom", path: ["rubrics"], message: "Each objective needs its rubric (what met, partly met and not met look like)" });
  }
  if (ctx.scenarios.some((o) => o.id !== ctx.editing && o.slug === s.slug)) {
    rc.addIssue({ code: "custom", path: ["slug"], message: `Another scenario already uses "${s.slug}"` });
  }
};

export const scenarioSchema = (ctx: ScenarioContext) => z.object(scenarioShape).superRefine(checkScenario(ctx));
export const scenarioCreateSchema = (ctx: ScenarioContext) =>
  z
    .object({
      ...scenarioShape,
      tags: scenarioShape.tags.default([]),
      contentRating: scenarioShape.contentRating.default("general"),
      isActive: scenarioShape.isActive.default(false),
      sortOrder: scenarioShape.sortOrder.default(0),
      task: scenarioShape.task.default(null),
      modelKey: scenarioShape.modelKey.default(null),
      objectives: scenarioShape.objectives.default([]),
      rubrics: scenarioShape.rubrics.default([]),
      turnLimit: scenarioShape.turnLimit.default(null),
      difficulty: scenarioShape.difficulty.default(null),
    })
    .superRefine(checkScenario(ctx));
export const scenarioPatchSchema = z.object(scenarioShape).partial().strict();
export type ScenarioInput = z.infer<ReturnType<typeof scenarioSchema>>;

/** A task's profile: its sampling defaults (a model may override them per task) and what it is for. */
export const taskProfileSchema = z
  .object({
    description: z.string().trim().max(300, "At most 300 characters"),
    temperature: z.number().min(0, "0 to 2").max(2, "0 to 2"),
    maxTokens: z.number().int("A whole number").min(1, "At least 1").max(131_072, "At most 131 072"),
    topP: z.number().gt(0, "Above 0, at most 1").max(1, "Above 0, at most 1"),
  })
  .partial()
  .strict();
export type TaskProfileInput = z.infer<typeof taskProfileSchema>;

export const loginSchema = z.object({ token: z.string().min(1, "Enter the admin token").max(1000) });

/** One message per field, keyed by its dotted path ("" for the form as a whole): what forms show and the API returns. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".");
    // zod's wording for a wrong type names JavaScript types; a form field wants a plain request.
    const plain = issue.code === "invalid_type" ? (issue.expected === "number" ? "Enter a number" : issue.input === undefined ? "Required" : issue.message) : issue.message;
    out[key] ??= plain;
  }
  return out;
}
