import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { accessibilityViolations } from "../support/accessibility.js";
import { launchBrowser } from "../support/browser.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * An admin's path in a real Chromium: log in, add a provider and a model that point at a scripted
 * upstream, put the model first, chat and get its reply, then find that request in Usage with its
 * cost. Each tab is photographed on the way.
 */
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");
const ADMIN_TOKEN = "e2e-admin-token-0123456789";

let openrouter: ScriptedUpstream;
let newUpstream: ScriptedUpstream;
let parley: ParleyProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Two upstreams, so the reply says which one answered.
  [openrouter, newUpstream] = await Promise.all([ScriptedUpstream.start(), ScriptedUpstream.start()]);
  openrouter.setDefault({ kind: "stream", chunks: ["From ", "OpenRouter."] });
  newUpstream.setDefault({
    kind: "stream",
    chunks: ["*nods* ", "From the ", "new provider."],
    // No cost from the upstream: Parley prices it from the model's row (2 and 6 $ per M tokens).
    usage: { prompt_tokens: 1000, completion_tokens: 500 },
  });
  [parley, browser] = await Promise.all([
    startParley({
      env: {
        OPENROUTER_API_KEY: "sk-or-e2e",
        OPENROUTER_BASE_URL: openrouter.baseUrl,
        ADMIN_TOKEN,
        REQUEST_LOG_FLUSH_MS: "50",
      },
    }),
    launchBrowser(),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  // Deleting asks for confirmation; anything else (an alert from injected markup) is a failure.
  page.on("dialog", (d) => {
    if (d.type() !== "confirm") pageErrors.push(`${d.type()} opened: ${d.message()}`);
    void d.accept();
  });
});

beforeEach(() => {
  onTestFailed(() => console.error(`--- Parley's last log lines ---\n${parley.logs.slice(-40).join("\n")}`));
});

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await Promise.all([openrouter?.close(), newUpstream?.close()]);
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `admin-${name}.png`), fullPage: true });
const tab = async (name: string) => {
  await page.getByRole("navigation", { name: "Admin sections" }).getByRole("link", { name }).click();
  await page.getByRole("heading", { level: 2, name }).waitFor();
};

describe("admin dashboard", () => {
  it("refuses a wrong token with a message, then logs in with the right one", async () => {
    await page.goto(`${parley.url}/admin`);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "That is not the admin token" }).waitFor();
    await shot("login");

    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { level: 2, name: "Providers" }).waitFor();
    // The session is an httpOnly cookie: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("parley_admin");
    const cookie = (await context.cookies()).find((c) => c.name === "parley_admin")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/admin" });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000);
  });

  it("adds a provider, showing field errors first, and tests it", async () => {
    await page.getByRole("button", { name: "Add provider" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a provider" });
    // The dialog takes the focus and keeps Tab inside; Escape closes it and gives the focus back.
    const focusInside = () => dialog.evaluate((d) => d.contains(document.activeElement));
    expect(await focusInside()).toBe(true);
    await page.keyboard.press("Shift+Tab");
    expect(await focusInside()).toBe(true);
    await page.keyboard.press("Tab");
    expect(await focusInside()).toBe(true);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Add provider");
    await page.keyboard.press("Enter");
    const secret = dialog.getByLabel("Environment variable holding the key");
    expect(await dialog.locator(`#${await secret.getAttribute("aria-describedby")}`).textContent()).toContain("Its name only");
    await dialog.getByLabel("Name (used in logs and headers)").fill("e2e-upstream");
    // Markup typed by an admin is shown as text, never run.
    await dialog.getByLabel("Display name").fill('E2E <img src=x onerror="alert(1)">');
    await dialog.getByLabel("Kind", { exact: true }).selectOption("openai_compatible");
    await dialog.getByLabel("Base URL (the part before /chat/completions)").fill("ftp://127.0.0.1/v1");
    await dialog.getByLabel("Extra headers (one “Name: value” per line)").fill("Authorization: Bearer stolen");
    await dialog.getByRole("button", { name: "Add provider" }).click();
    await dialog.getByText("Must be an http:// or https:// URL").waitFor();
    await shot("provider-form-errors");
    expect(await accessibilityViolations(page)).toEqual([]);
    // A refused field says so to assistive technology, with its message; the others do not.
    const url = dialog.getByLabel("Base URL (the part before /chat/completions)");
    expect(await url.getAttribute("aria-invalid")).toBe("true");
    expect(await dialog.locator(`#${await url.getAttribute("aria-describedby")}`).textContent()).toBe("Must be an http:// or https:// URL");
    expect(await dialog.getByLabel("Name (used in logs and headers)").getAttribute("aria-invalid")).toBeNull();
    // A field with a hint is described by it, once refused by its message instead.
    expect(await secret.getAttribute("aria-describedby")).toBe("p-secret-error");

    await url.fill(newUpstream.baseUrl);
    expect(await url.getAttribute("aria-invalid")).toBeNull();
    await dialog.getByLabel("Authentication").selectOption("none");
    await dialog.getByRole("button", { name: "Add provider" }).click();
    // The schema's second pass: the header rule.
    await dialog.getByText('"Authorization" is set by Parley and cannot be overridden here').waitFor();
    await dialog.getByLabel("Extra headers (one “Name: value” per line)").fill("X-Team: parley-e2e");
    await dialog.getByRole("button", { name: "Add provider" }).click();
    await dialog.waitFor({ state: "detached" });

    const row = page.locator('tr[data-provider="e2e-upstream"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('E2E <img src=x onerror="alert(1)">');
    expect(await row.locator("img").count()).toBe(0);
    expect(await row.textContent()).toContain("none needed");
    // OpenRouter's key is in the environment: shown as set, its value nowhere.
    const openrouterRow = page.locator('tr[data-provider="openrouter"]');
    expect(await openrouterRow.textContent()).toContain("OPENROUTER_API_KEY set");
    expect(await page.content()).not.toContain("sk-or-e2e");
  });

  it("adds a model picked from the provider's /models and moves it to the top of role-play", async () => {
    await tab("Models");
    await page.getByRole("button", { name: "Add model" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a model" });
    await dialog.getByLabel("Provider", { exact: true }).selectOption({ label: 'E2E <img src=x onerror="alert(1)"> (e2e-upstream)' });
    await dialog.getByLabel("Task", { exact: true }).selectOption("roleplay");
    await dialog.getByLabel("Input price ($ per million tokens)").fill("-1");
    await dialog.getByRole("button", { name: "Add model" }).click();
    await dialog.getByText("A price cannot be negative").waitFor();

    await dialog.getByRole("button", { name: "Browse" }).click();
    const browse = page.getByRole("dialog", { name: /Models offered by/ });
    // Escape closes the inner dialog alone, and the focus goes back to the button that opened it.
    await browse.getByRole("button", { name: /Scripted: Lively 7B/ }).waitFor();
    await page.keyboard.press("Escape");
    await browse.waitFor({ state: "detached" });
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Browse");
    await dialog.getByRole("button", { name: "Browse" }).click();
    await browse.getByRole("button", { name: /Scripted: Lively 7B/ }).click();
    await browse.waitFor({ state: "detached" });
    expect(await dialog.getByLabel("Model key (as the provider names it)").inputValue()).toBe("scripted/lively-7b");
    expect(await dialog.getByLabel("Input price ($ per million tokens)").inputValue()).toBe("2");
    expect(await dialog.getByLabel("Output price ($ per million tokens)").inputValue()).toBe("6");
    expect(await dialog.getByLabel("Context length (tokens)").inputValue()).toBe("32768");
    await dialog.getByRole("button", { name: "Add model" }).click();
    await dialog.waitFor({ state: "detached" });

    const group = page.locator('table[data-task="roleplay"]');
    const rows = group.locator("tbody tr");
    await group.locator('tr[data-model="scripted/lively-7b"]').waitFor();
    // Up, one place at a time, until it is first.
    const index = () => rows.evaluateAll((trs) => trs.findIndex((t) => t.getAttribute("data-model") === "scripted/lively-7b"));
    expect(await index()).toBeGreaterThan(0);
    for (let i = await index(); i > 0; i = await index()) {
      await group.getByRole("button", { name: "Move Scripted: Lively 7B up" }).click();
      await expect.poll(index).toBe(i - 1);
    }
    expect(await rows.first().textContent()).toContain("default");
    await shot("models");
  });

  it("the next chat is answered by the model now first", async () => {
    const chat = await context.newPage();
    await chat.goto(`${parley.url}/s/refund-request`);
    const box = chat.getByLabel("Your message");
    await box.fill("Hello there.");
    await box.press("Enter");
    await chat.getByTestId("message-assistant").filter({ hasText: "From the new provider." }).waitFor();
    expect(newUpstream.requests).toHaveLength(1);
    expect(newUpstream.requests[0]!.headers["x-team"]).toBe("parley-e2e");
    expect(openrouter.requests).toHaveLength(0);
    await chat.close();
  });

  it("Usage counts that request with its cost, and the log shows its attempt", async () => {
    await tab("Usage");
    const modelRow = page.locator('table[data-table="usage-model"] tr', { hasText: "e2e-upstream/scripted/lively-7b" });
    // The request log is written in batches: reload the tab until the row is there.
    await expect
      .poll(
        async () => {
          await tab("Providers");
          await tab("Usage");
          // Counted once the tab has its numbers, not while it is still loading them.
          await page.getByTestId("usage-totals").waitFor();
          return modelRow.count();
        },
        { timeout: 10_000 },
      )
      .toBe(1);
    // 1000 tokens in at $2/M + 500 out at $6/M = $0.005.
    const cells = await modelRow.locator("td").allTextContents();
    expect(cells).toEqual(["e2e-upstream/scripted/lively-7b", "1", "1,000", "500", "$0.0050", "0", "0"]);
    expect(await page.locator('[data-stat="requests"] strong').textContent()).toBe("1");
    expect(await page.locator('[data-stat="cost"] strong').textContent()).toBe("$0.0050");
    expect(await page.locator(".recharts-surface").count()).toBeGreaterThanOrEqual(3);

    const logRow = page.locator("table[data-table=requests] tbody tr").first();
    await logRow.getByRole("button", { name: "1 attempt" }).click();
    await page.getByText(/e2e-upstream\/scripted\/lively-7b\s*→ 200 in \d+ ms/).waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("error");
    await page.getByText("No requests match.").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("");
    await logRow.waitFor();
    await shot("usage");
  });

  it("Scenarios: the avatar preview follows the style and seed; a new scenario saves hidden", async () => {
    await tab("Scenarios");
    await page.locator('tr[data-scenario="refund-request"]').waitFor();
    await shot("scenarios");
    await page.getByRole("button", { name: "New scenario" }).click();
    const dialog = page.getByRole("dialog", { name: "New scenario" });
    const preview = dialog.getByRole("img", { name: "Avatar preview" });
    await dialog.getByLabel("Avatar style").selectOption("bottts");
    await dialog.getByLabel("Avatar seed").fill("e2e-seed");
    await expect.poll(() => preview.getAttribute("src")).toBe("/avatars/bottts/e2e-seed.svg");
    await expect.poll(() => preview.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);

    await dialog.getByLabel("Address (/s/…)").fill("refund-request");
    await dialog.getByRole("button", { name: "Create scenario" }).click();
    await dialog.getByText('Another scenario already uses "refund-request"').waitFor();
    await dialog.getByLabel("Address (/s/…)").fill("e2e-negotiation");
    await dialog.getByLabel("Title", { exact: true }).fill("E2E negotiation");
    await dialog.getByLabel("Character's name").fill("Morgan");
    await dialog.getByLabel("Public description (shown in the gallery)").fill("A test scenario.");
    await dialog.getByLabel("Opening message (the character's first line)").fill("So, what is your offer?");
    await dialog.getByLabel(/^System prompt/).fill("You are Morgan, a hard negotiator.");
    await shot("scenario-editor");
    expect(await accessibilityViolations(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Create scenario" }).click();
    await dialog.waitFor({ state: "detached" });
    const row = page.locator('tr[data-scenario="e2e-negotiation"]');
    expect(await row.textContent()).toContain("hidden");
    await row.getByRole("button", { name: "Publish" }).click();
    await row.getByText("published").waitFor();
  });

  it("Health shows the circuits and refreshes by itself", async () => {
    await tab("Health");
    const status = page.getByRole("status").filter({ hasText: "Updated" });
    await status.waitFor();
    const first = await status.textContent();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).not.toBe(first);
    const circuit = page.locator("table[data-table=circuits] tr", { hasText: "e2e-upstream/scripted/lively-7b" });
    expect(await circuit.textContent()).toContain("closed");
    // The instances on this database (one here, this one) and where rate limits are kept.
    const instances = page.locator("table[data-table=instances] tbody tr");
    expect(await instances.count()).toBe(1);
    expect(await instances.first().textContent()).toContain("(this one)");
    expect(await page.locator("[data-stat=rate-limits] strong").textContent()).toBe("memory");
    await shot("health");
  });

  it("Keys: a new key's secret is shown once, works on /v1 within its limits, and its spend shows", async () => {
    await tab("Keys");
    await page.getByRole("button", { name: "New key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("e2e-app");
    await dialog.getByLabel("Requests per minute (empty: any)").fill("0");
    await dialog.getByRole("button", { name: "Create key" }).click();
    // Checked in the browser with the server's own schema before anything is sent.
    await dialog.getByText("At least 1 request").waitFor();
    await dialog.getByLabel("Requests per minute (empty: any)").fill("1");
    await dialog.getByLabel("Budget in USD (empty: none)").fill("5");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("secret").innerText()).trim();
    expect(secret).toMatch(/^pk-parley-/);
    await shot("keys-secret-once");
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByTestId("secret-once").getByRole("button", { name: "Done" }).click();
    expect(await page.getByTestId("secret").count()).toBe(0);
    const row = page.locator("tr[data-key=e2e-app]");
    expect(await row.textContent()).toContain("1 req/min");
    expect(await page.content()).not.toContain(secret);

    const call = () =>
      fetch(`${parley.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "Hi" }] }),
      });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(429);
    await page.reload();
    await row.waitFor();
    expect(await row.getByTestId("key-spend").textContent()).toMatch(/of \$5\.00 \(monthly\)/);
    expect(await row.textContent()).toContain("used ");
    await shot("keys");
  });

  it("finds nothing for axe-core (WCAG 2.1 AA) in any section", async () => {
    for (const name of ["Providers", "Models", "Scenarios", "Health", "Usage", "Keys"]) {
      await tab(name);
      await page.locator("table.admin-table").first().waitFor();
      expect({ name, violations: await accessibilityViolations(page) }).toEqual({ name, violations: [] });
    }
  });

  it("fits every section in a phone's width: a wide table scrolls inside its box, not the page", async () => {
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: 390, height: 844 });
    for (const name of ["Providers", "Models", "Scenarios", "Health", "Usage", "Keys"]) {
      await tab(name);
      await page.locator("table.admin-table").first().waitFor();
      expect({ name, overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) }).toEqual({ name, overflow: 0 });
    }
    await tab("Models");
    const box = page.locator(".table-scroll").first();
    expect(await box.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
    await shot("models-phone");
    await page.setViewportSize(viewport);
  });

  it("Providers shows the health of each provider and a test result; logging out ends the session", async () => {
    await tab("Providers");
    const row = page.locator('tr[data-provider="e2e-upstream"]');
    await row.getByRole("button", { name: "Test" }).click();
    await row.getByText(/Test: 200 · \d+ ms · scripted\/lively-7b/).waitFor();
    expect(await row.textContent()).toContain("healthy");
    await shot("providers");

    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByLabel("Admin token").waitFor();
    const res = await page.request.get(`${parley.url}/api/admin/providers`);
    expect(res.status()).toBe(401);
    expect(pageErrors).toEqual([]);
  });
});
