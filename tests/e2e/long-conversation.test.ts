import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { clientIdSigningKey } from "../../server/db/queries/admin-auth.js";
import { seedDefaults } from "../../server/db/seed.js";
import { CLIENT_COOKIE, ClientIds } from "../../server/middleware/client-id.js";
import { launchBrowser } from "../support/browser.js";
import { writeLongThread } from "../support/long-thread.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/**
 * A story of 10,000 messages, as a person who has role-played for months has: it opens at its end,
 * scrolls up through older pages, and the next reply shows where the character's memory begins.
 */
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");
const LONG = 10_000;
const CLIENT = "e".repeat(32);

let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let browser: Browser;
let cookie: string;
const dataDir = mkdtempSync(path.join(tmpdir(), "parley-e2e-long-"));
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await ScriptedUpstream.start();
  upstream.setDefault({ kind: "stream", chunks: ["*nods* ", "Go on."] });
  // Written before Parley starts: the embedded database has one process at a time.
  const handle = await openDatabase({ dataDir });
  await seedDefaults(handle.db);
  const ids = new ClientIds();
  ids.setKey(await clientIdSigningKey(handle.db, ClientIds.newKey));
  cookie = ids.sign(CLIENT);
  await writeLongThread(handle.db, CLIENT, LONG);
  // A window of 4,000 tokens: the reply's prompt holds the newest twenty-odd messages, not the story.
  await handle.db.execute(sql`update api_models set context_length = 4000 where task = 'roleplay'`);
  await handle.close();
  [parley, browser] = await Promise.all([
    startParley({ dataDir, env: { OPENROUTER_API_KEY: "sk-or-e2e", OPENROUTER_BASE_URL: upstream.baseUrl } }),
    launchBrowser(),
  ]);
}, 120_000);

beforeEach(() => {
  onTestFailed(() => console.error(`--- Parley's last log lines ---\n${parley.logs.slice(-40).join("\n")}`));
});

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openAs(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(15_000);
  await context.addCookies([{ name: CLIENT_COOKIE, value: cookie, url: parley.url }]);
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  return page;
}

/** Scrolls up a turn of the wheel at a time until `found` counts something (older pages load as the top comes near). */
async function scrollUpUntil(p: Page, found: () => Promise<number>) {
  await expect
    .poll(
      async () => {
        const n = await found();
        if (n === 0) await p.mouse.wheel(0, -1500);
        return n;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);
}

describe("a 10,000-message conversation", () => {
  it("opens at its end with a few dozen messages rendered, scrolls up through older pages, and keeps its place", async () => {
    const p = await openAs({ width: 1280, height: 860 });
    await p.goto(`${parley.url}/conversations`);
    await p.getByTestId("conversation").first().click();
    await p.getByText(`Message ${LONG - 1}:`).waitFor();
    // Windowed: only what is near the screen is in the page, not the 50 of the first page, let alone 10,000.
    const rendered = await p.locator(".message-row").count();
    expect(rendered).toBeGreaterThan(3);
    expect(rendered).toBeLessThan(50);

    // Three pages up (the first page holds 9,950–9,999): older pages arrive as the person scrolls,
    // and each one put above leaves the view where it was rather than jumping back to the end.
    for (const n of [LONG - 60, LONG - 110, LONG - 160]) {
      const target = p.getByText(`Message ${n}:`);
      await scrollUpUntil(p, () => target.count());
      expect(await p.getByText(`Message ${LONG - 1}:`).count()).toBe(0);
      expect(await p.locator(".message-row").count()).toBeLessThan(80);
    }
    await p.getByText(`Message ${LONG - 160}:`).scrollIntoViewIfNeeded();
    expect(await p.getByText(`Message ${LONG - 160}:`).isVisible()).toBe(true);
    await p.screenshot({ path: path.join(SHOTS, "long-conversation-desktop.png") });
    expect(pageErrors).toEqual([]);
    await p.context().close();
  });

  it("answers at once and draws the line above which the character does not remember, at phone width too", async () => {
    const p = await openAs({ width: 375, height: 740 });
    await p.goto(`${parley.url}/conversations`);
    await p.getByTestId("conversation").first().click();
    await p.getByText(`Message ${LONG - 1}:`).waitFor();
    // Opening the story read its history ahead (here or in the test before): the reply reads none of it.
    await expect.poll(() => parley.logs.some((l) => l.includes('"msg":"thread read ahead"'))).toBe(true);
    const box = p.getByLabel("Your message");
    await box.fill("And what happened next?");
    await box.press("Enter");
    await p.locator(".message-row", { hasText: "Go on." }).waitFor();
    await expect.poll(() => p.getByTestId("streaming-reply").count()).toBe(0);
    // The model received the newest messages that fit its 4,000 tokens; the line marks the oldest of them.
    expect(parley.logs.filter((l) => l.includes('"msg":"history read from the database"'))).toEqual([]);
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.length).toBeGreaterThan(5);
    expect(sent.length).toBeLessThan(60);
    const oldestSent = sent[1]!.content.slice(0, sent[1]!.content.indexOf(":") + 1);
    const line = p.getByTestId("memory-line");
    await scrollUpUntil(p, () => line.count());
    await line.scrollIntoViewIfNeeded();
    expect(await line.textContent()).toMatch(/does not remember above this line/);
    // The line sits right above the oldest message the model was sent.
    const row = p.locator(".message-row", { has: line });
    expect(await row.textContent()).toContain(oldestSent);
    await p.screenshot({ path: path.join(SHOTS, "memory-line-phone.png") });
    expect(pageErrors).toEqual([]);
    await p.context().close();
  });
});
