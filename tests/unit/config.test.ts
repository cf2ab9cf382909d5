import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

describe("configuration", () => {
  it("uses the documented defaults on an empty environment", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe("127.0.0.1");
    expect(c.dataDir.endsWith("/data")).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.openrouterBaseUrl).toBe("https://openrouter.ai/api/v1");
    expect(c.appTitle).toBe("Parley");
    expect(c.maxMessageChars).toBe(8000);
  });

  it("names the variable whose value is wrong", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ OPENROUTER_BASE_URL: "not a url" })).toThrow(/OPENROUTER_BASE_URL/);
    expect(() => loadConfig({ MAX_MESSAGE_CHARS: "0" })).toThrow(/MAX_MESSAGE_CHARS/);
  });

  it("reads secrets by the name a provider gives, and treats blank as unset", () => {
    const c = loadConfig({ OPENROUTER_API_KEY: "sk-or-123", EMPTY_KEY: "  " });
    expect(c.readSecret("OPENROUTER_API_KEY")).toBe("sk-or-123");
    expect(c.readSecret("EMPTY_KEY")).toBeUndefined();
    expect(c.readSecret("NOT_SET")).toBeUndefined();
  });

  it("strips trailing slashes from base URLs", () => {
    const c = loadConfig({ OPENROUTER_BASE_URL: "http://127.0.0.1:9/api/v1/", CHAT_WORKER_URL: "http://127.0.0.1:8/v1/" });
    expect(c.openrouterBaseUrl).toBe("http://127.0.0.1:9/api/v1");
    expect(c.chatWorkerUrl).toBe("http://127.0.0.1:8/v1");
  });
});

describe("the README's configuration table", () => {
  it("lists every variable Parley reads", async () => {
    const { readFileSync } = await import("node:fs");
    const { ENV_VARIABLES } = await import("../../server/config.js");
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const missing = ENV_VARIABLES.filter((v) => !readme.includes(`| \`${v}\` |`));
    expect(missing).toEqual([]);
    expect(ENV_VARIABLES.length).toBeGreaterThanOrEqual(10);
  });
});
