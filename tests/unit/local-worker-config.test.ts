import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";
import { findLocalModel } from "../../server/local-worker/find-model.js";
import { defaultThreads, loadWorkerConfig } from "../../worker/config.js";

describe("the worker's settings", () => {
  it("uses the documented defaults", () => {
    const c = loadWorkerConfig({});
    expect(c).toMatchObject({ port: 8090, host: "127.0.0.1", contextSize: 2048, slots: 2, queueSize: 16, gpu: false, fallbackTemplate: "general" });
    expect(c.threads).toBe(defaultThreads());
    expect(c.threads).toBeGreaterThanOrEqual(1);
    expect(c.modelPath).toBeUndefined();
  });

  it("names the setting whose value is wrong, and Parley refuses to start on it too", () => {
    expect(() => loadWorkerConfig({ CHAT_WORKER_SLOTS: "0" })).toThrow(/CHAT_WORKER_SLOTS/);
    expect(() => loadWorkerConfig({ CHAT_WORKER_GPU: "tpu" })).toThrow(/CHAT_WORKER_GPU: must be one of false, auto, cuda/);
    expect(() => loadWorkerConfig({ CHAT_WORKER_FALLBACK_TEMPLATE: "guess" })).toThrow(/CHAT_WORKER_FALLBACK_TEMPLATE/);
    expect(() => loadConfig({ CHAT_WORKER_THREADS: "many" })).toThrow(ConfigError);
  });

  it("passes only CHAT_WORKER_* settings to Parley's own worker, and runs none when CHAT_WORKER_URL names one", () => {
    const c = loadConfig({ CHAT_WORKER_MODEL: "m.gguf", CHAT_WORKER_SLOTS: "3", OPENROUTER_API_KEY: "sk-secret" });
    expect(c.localWorker?.modelPath).toBe("m.gguf");
    expect(c.localWorker?.env).toEqual({ CHAT_WORKER_MODEL: "m.gguf", CHAT_WORKER_SLOTS: "3" });
    expect(loadConfig({ CHAT_WORKER_MODEL: "m.gguf", CHAT_WORKER_URL: "http://10.0.0.2:8090/v1" }).localWorker).toBeUndefined();
  });
});

describe("finding the model Parley's worker runs", () => {
  const root = mkdtempSync(path.join(tmpdir(), "parley-models-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const folder = (name: string, files: string[]) => {
    const dir = path.join(root, name);
    mkdirSync(dir);
    for (const f of files) writeFileSync(path.join(dir, f), "GGUF");
    return dir;
  };

  it("takes CHAT_WORKER_MODEL when set, whatever the folder holds", () => {
    expect(findLocalModel("/models/x.gguf", folder("ignored", ["a.gguf"]))).toEqual({ path: "/models/x.gguf" });
  });

  it("takes the one .gguf in the folder", () => {
    const dir = folder("one", ["qwen.gguf", "README.md"]);
    expect(findLocalModel(undefined, dir)).toEqual({ path: path.join(dir, "qwen.gguf") });
  });

  it("runs none, and says why, with no folder, an empty one, or several models", () => {
    expect(findLocalModel(undefined, path.join(root, "absent"))).toMatchObject({ reason: expect.stringMatching(/no .* folder/) });
    expect(findLocalModel(undefined, folder("empty", ["notes.txt"]))).toMatchObject({ reason: expect.stringMatching(/no \.gguf file/) });
    expect(findLocalModel(undefined, folder("two", ["a.gguf", "b.gguf"]))).toMatchObject({
      reason: expect.stringMatching(/2 \.gguf files .*a\.gguf, b\.gguf.*set CHAT_WORKER_MODEL/),
    });
  });
});
