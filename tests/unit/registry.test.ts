import { describe, expect, it } from "vitest";
import { Registry } from "../../server/gateway/registry.js";
import { modelRow, providerRow } from "../support/registry-rows.js";

const provider = providerRow;
const model = modelRow;

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
      model({ id: "me", modelKey: "enhancer", providerId: "or", task: "enhance", paramOverrides: { enhance: { temperature: 0.2 } } }),
    ],
    [
      { task: "roleplay", temperature: 0.9, maxTokens: 400, topP: 0.95 },
      { task: "enhance", temperature: 0.5, maxTokens: 200, topP: 0.9 },
    ],
  );
  return r;
}

describe("registry", () => {
  it("orders a task's candidates by priority; on a tie the local worker, then the default", () => {
    const keys = registry({}).candidates("roleplay").map((c) => c.model.modelKey);
    expect(keys).toEqual(["local", "late", "haiku", "sonnet"]);
  });

  it("puts a named model first, once", () => {
    const keys = registry({}).candidates("roleplay", "sonnet").map((c) => c.model.modelKey);
    expect(keys).toEqual(["sonnet", "local", "late", "haiku"]);
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

  it("layers sampling: the task profile, then the model's overrides, then what the caller asked", () => {
    const r = registry({});
    const [enhancer] = r.candidates("enhance");
    const [, haiku] = r.candidates("roleplay");
    expect(r.paramsFor(haiku!, "roleplay")).toEqual({ temperature: 0.9, max_tokens: 400, top_p: 0.95 });
    expect(r.paramsFor(enhancer!, "enhance")).toEqual({ temperature: 0.2, max_tokens: 200, top_p: 0.9 });
    expect(r.paramsFor(enhancer!, "enhance", { max_tokens: 50, temperature: undefined })).toEqual({
      temperature: 0.2,
      max_tokens: 50,
      top_p: 0.9,
    });
  });

  it("finds a model key served by two providers by routing order (default, then priority), and follows a reload", () => {
    const r = registry({});
    const providers = [provider({ id: "or", name: "openrouter", kind: "openrouter" }), provider({ id: "or2", name: "second", kind: "openrouter" })];
    const twice = [
      model({ id: "a", modelKey: "same", providerId: "or", priority: 1 }),
      model({ id: "b", modelKey: "same", providerId: "or2", priority: 5, isDefault: true }),
      model({ id: "c", modelKey: "same", providerId: "or", priority: 0, isActive: false }),
    ];
    r.replace(providers, twice);
    expect(r.findModel("same")?.id).toBe("b");
    expect(r.findModel("same")?.id).toBe("b"); // asked again: the same answer from the snapshot
    r.replace(providers, [twice[0]!, { ...twice[1]!, isActive: false }, { ...twice[2]!, task: "coach" }]);
    expect(r.findModel("same")?.id).toBe("a");
    expect([...r.tasks()].sort()).toEqual(["coach", "roleplay"]);
  });

  it("routes a named model by its own task and lists active models per task", () => {
    const r = registry({});
    expect(r.findModel("enhancer")?.task).toBe("enhance");
    expect(r.findModel("nope")).toBeUndefined();
    expect([...r.tasks()].sort()).toEqual(["enhance", "roleplay"]);
    expect(r.activeModels()).toEqual([]); // nothing can serve without a key
    const keyed = registry({ OPENROUTER_API_KEY: "k" }).activeModels().map((c) => c.model.modelKey);
    expect(keyed).toContain("enhancer");
    expect(keyed).not.toContain("local"); // the worker is not configured
  });

  it("applies CHAT_WORKER_URL only to the seeded worker; another worker keeps its own URL", () => {
    const r = new Registry({ openrouterBaseUrl: "http://127.0.0.1:9/api/v1", chatWorkerUrl: undefined }, () => undefined);
    r.replace(
      [provider({ id: "gpu", name: "gpu_box", kind: "chat_worker", authScheme: "none", secretName: null, baseUrl: "http://10.0.0.5:8090/v1" })],
      [model({ id: "g", modelKey: "local", providerId: "gpu" })],
    );
    const [c] = r.candidates("roleplay");
    expect(c!.provider.baseUrl).toBe("http://10.0.0.5:8090/v1");
    expect(r.skipReason(c!)).toBeUndefined();
  });
});

describe("registry workers", () => {
  it("offers the health checker only workers it can reach", () => {
    expect(registry({}).workers()).toEqual([]);
    expect(registry({}, "http://127.0.0.1:8090/v1").workers().map((w) => w.name)).toEqual(["chat_worker"]);
  });
});
