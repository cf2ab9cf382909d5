import { describe, expect, it } from "vitest";
import { Registry } from "../../server/gateway/registry.js";
import type { Model, Provider } from "../../server/gateway/types.js";

const provider = (p: Partial<Provider> & Pick<Provider, "id" | "name" | "kind">): Provider => ({
  displayName: p.name,
  baseUrl: "http://127.0.0.1:1/v1",
  authScheme: "bearer",
  authHeaderName: "Authorization",
  secretName: "KEY",
  isActive: true,
  extraHeaders: {},
  ...p,
});
const model = (m: Partial<Model> & Pick<Model, "id" | "modelKey" | "providerId">): Model => ({
  displayName: m.modelKey,
  task: "roleplay",
  isActive: true,
  isDefault: false,
  priority: 100,
  inputPricePerMtok: null,
  outputPricePerMtok: null,
  ...m,
});

function registry(env: Record<string, string>, chatWorkerUrl?: string) {
  const r = new Registry({ openrouterBaseUrl: "http://127.0.0.1:9/api/v1", chatWorkerUrl }, (n) => env[n]);
  r.replace(
    [
      provider({ id: "or", name: "openrouter", kind: "openrouter", secretName: "OPENROUTER_API_KEY" }),
      provider({ id: "w", name: "chat_worker", kind: "chat_worker", authScheme: "none", secretName: null }),
    ],
    [
      model({ id: "m2", modelKey: "sonnet", providerId: "or", priority: 2 }),
      model({ id: "m1", modelKey: "haiku", providerId: "or", priority: 1, isDefault: true }),
      model({ id: "m3", modelKey: "late", providerId: "or", priority: 0 }),
      model({ id: "mw", modelKey: "local", providerId: "w", priority: 0 }),
      model({ id: "me", modelKey: "enhancer", providerId: "or", task: "enhance" }),
    ],
  );
  return r;
}

describe("registry", () => {
  it("orders a task's candidates: local worker, then the default, then by priority", () => {
    const keys = registry({}).candidates("roleplay").map((c) => c.model.modelKey);
    expect(keys).toEqual(["local", "haiku", "late", "sonnet"]);
  });

  it("puts a named model first, once", () => {
    const keys = registry({}).candidates("roleplay", "sonnet").map((c) => c.model.modelKey);
    expect(keys).toEqual(["sonnet", "local", "haiku", "late"]);
  });

  it("applies OPENROUTER_BASE_URL and CHAT_WORKER_URL to their providers", () => {
    const cs = registry({}, "http://127.0.0.1:8081/v1").candidates("roleplay");
    expect(cs.find((c) => c.provider.kind === "openrouter")!.provider.baseUrl).toBe("http://127.0.0.1:9/api/v1");
    expect(cs.find((c) => c.provider.kind === "chat_worker")!.provider.baseUrl).toBe("http://127.0.0.1:8081/v1");
  });

  it("skips without a call: a missing secret, an unconfigured worker, an inactive provider", () => {
    const r = registry({});
    const [worker, haiku] = r.candidates("roleplay");
    expect(r.skipReason(worker!)).toBe("worker_not_configured");
    expect(r.skipReason(haiku!)).toBe("missing_secret");
    const ok = registry({ OPENROUTER_API_KEY: "k" }, "http://127.0.0.1:8081/v1");
    const [w2, h2] = ok.candidates("roleplay");
    expect(ok.skipReason(w2!)).toBeUndefined();
    expect(ok.skipReason(h2!)).toBeUndefined();
    expect(ok.skipReason({ ...h2!, provider: { ...h2!.provider, isActive: false } })).toBe("provider_inactive");
  });
});
