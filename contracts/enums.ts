/**
 * The closed sets of words that the database, the API, the dashboard and the worker all use,
 * declared once: drizzle's column enums and zod's schemas take these arrays, and the types are
 * derived from them.
 */

export const PROVIDER_KINDS = ["openrouter", "openai_compatible", "chat_worker"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const AUTH_SCHEMES = ["bearer", "header", "none"] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

export const SCENARIO_CATEGORIES = ["practice", "story"] as const;
export type ScenarioCategory = (typeof SCENARIO_CATEGORIES)[number];

export const CONTENT_RATINGS = ["general", "teen", "mature"] as const;
export type ContentRating = (typeof CONTENT_RATINGS)[number];

/** Who wrote a stored message. */
export const MESSAGE_ROLES = ["user", "assistant"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Who speaks in a prompt sent to a model. */
export const CHAT_ROLES = ["system", ...MESSAGE_ROLES] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/** How a routed request ended, as the request log records it. */
export const REQUEST_STATUSES = ["ok", "error", "aborted", "no_provider", "upstream_unavailable", "upstream_rejected", "prompt_too_long"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const CIRCUIT_STATES = ["closed", "open", "half_open"] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export const PROVIDER_HEALTH_STATES = ["inactive", "misconfigured", "payment_required", "circuit_open", "failing", "healthy"] as const;
export type ProviderHealthState = (typeof PROVIDER_HEALTH_STATES)[number];

/** The spans the admin's usage view summarises. */
export const USAGE_WINDOWS = ["hour", "day", "week"] as const;
export type UsageWindow = (typeof USAGE_WINDOWS)[number];
