import type { Model, Provider } from "../../server/gateway/types.js";

/** A provider row as the registry holds it: what a test names, the rest the usual defaults. */
export const providerRow = (p: Partial<Provider> & Pick<Provider, "id" | "name" | "kind">): Provider => ({
  displayName: p.name,
  baseUrl: "http://127.0.0.1:1/v1",
  authScheme: "bearer",
  authHeaderName: "Authorization",
  secretName: "KEY",
  isActive: true,
  extraHeaders: {},
  connectTimeoutMs: null,
  firstByteTimeoutMs: null,
  idleTimeoutMs: null,
  routingPreferences: null,
  failoverRules: {},
  ...p,
});

/** A model row as the registry holds it: what a test names, the rest the usual defaults. */
export const modelRow = (m: Partial<Model> & Pick<Model, "id" | "modelKey" | "providerId">): Model => ({
  displayName: m.modelKey,
  task: "roleplay",
  isActive: true,
  isDefault: false,
  priority: 100,
  inputPricePerMtok: null,
  outputPricePerMtok: null,
  contextLength: null,
  acceptsImages: false,
  weight: null,
  tokenizer: null,
  paramOverrides: {},
  ...m,
});
