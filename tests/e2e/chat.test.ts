import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { accessibilityViolations } from "../support/accessibility.js";
import { launchBrowser } from "../support/browser.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/** A person's path through Parley in a real Chromium: gallery, chat, reload, stop, XSS. */
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 375, height: 740 };

let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await ScriptedUpstream.start();
  upstream.setDefault({
    kind: "stream",
    chunks: ["*leans ", "back in ", "her chair* ", "Fine. ", "I'm listening. ", "What are you ", "offering?"],
    delayMs: 40,
  });
  [parley, browser] = await Promise.all([
    startParley({ env: { OPENROUTER_API_KEY: "sk-or-e2e", OPENROUTER_BASE_URL: upstream.baseUrl } }),
    launchBrowser(),
  ]);
});

async function openPage(viewport = DESKTOP, options: { hasTouch?: boolean; isMobile?: boolean; colorScheme?: "light" | "dark" } = {}) {
  context = await browser.newContext({ viewport, ...options });
  // Well inside the test's own timeout, so a failed wait reports what it waited for.
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("dialog", (d) => {
    pageErrors.push(`dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return page;
}

beforeEach(() => {
  // When a browser test fails, what the server said is the first thing to read.
  onTestFailed(() => console.error(`--- Parley's last log lines ---\n${parley.logs.slice(-40).join("\n")}`));
});

afterEach(async () => {
  await context?.close();
  upstream.reset();
  upstream.setDefault({
    kind: "stream",
    chunks: ["*leans ", "back in ", "her chair* ", "Fine. ", "I'm listening. ", "What are you ", "offering?"],
    delayMs: 40,
  });
  expect(pageErrors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await upstream?.close();
});

async function sendMessage(p: Page, text: string) {
  const box = p.getByLabel("Your message");
  await box.fill(text);
  await box.press("Enter");
}

/** Sends a message and waits until the character's reply has finished and is in the thread. */
async function sendAndAwaitReply(p: Page, text: string) {
  const replies = p.getByTestId("message-assistant");
  // The opening line first: counted before the page has loaded, the next reply would be it.
  await replies.first().waitFor();
  const before = await replies.count();
  await sendMessage(p, text);
  await replies.nth(before).waitFor();
  await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
}

describe("gallery", () => {
  it("shows the scenarios as cards with avatars, at desktop and phone width", async () => {
    for (const [name, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      const p = await openPage(viewport);
      await p.goto(parley.url);
      const cards = p.getByTestId("scenario-card");
      await cards.first().waitFor();
      expect(await cards.count()).toBeGreaterThanOrEqual(8);
      for (const card of await cards.all()) {
        await card.scrollIntoViewIfNeeded();
        const img = card.locator("img.avatar");
        await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
      }
      await p.evaluate(() => window.scrollTo(0, 0));
      const first = cards.first();
      expect(await first.locator("h3").textContent()).toBeTruthy();
      expect(await first.textContent()).toMatch(/All ages|Teen|Mature/);
      expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await p.screenshot({ path: path.join(SHOTS, `gallery-${name}.png`), fullPage: name === "desktop" });
      await context.close();
    }
  });

  it("opens a scenario from the keyboard", async () => {
    const p = await openPage();
    await p.goto(parley.url);
    await p.getByTestId("scenario-card").first().waitFor();
    await p.getByTestId("scenario-card").first().focus();
    await p.keyboard.press("Enter");
    await p.waitForURL(/\/s\//);
    await p.getByLabel("Your message").waitFor();
  });
});

describe("swipes", () => {
  it("asks for another reply to a middle message, shows ‹ 2/2 ›, and switching back brings the branch below", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/salary-negotiation`);
    await p.getByTestId("message-assistant").first().waitFor();
    upstream.enqueue({ kind: "stream", chunks: ["First answer."] }, { kind: "stream", chunks: ["Second answer."] });
    await sendAndAwaitReply(p, "Opening offer.");
    await sendAndAwaitReply(p, "My counter.");
    const replies = p.getByTestId("message-assistant");
    expect(await replies.count()).toBe(3);

    // "Another reply here" on the first answer, in the middle of the thread.
    upstream.enqueue({ kind: "stream", chunks: ["A different ", "first answer."], delayMs: 20 });
    await replies.nth(1).getByRole("button", { name: "Another reply here" }).click();
    await p.getByText("A different first answer.").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    const versions = replies.nth(1).getByTestId("versions");
    await versions.getByText("2/2").waitFor();
    // The branch below the old answer is not on this one.
    expect(await p.getByText("My counter.").count()).toBe(0);
    await p.screenshot({ path: path.join(SHOTS, "chat-swipe-desktop.png"), fullPage: true });

    await versions.getByRole("button", { name: "Previous version" }).click();
    await p.getByText("My counter.").waitFor();
    await p.getByText("Second answer.").waitFor();
    await replies.nth(1).getByTestId("versions").getByText("1/2").waitFor();
    expect(await p.getByText("A different first answer.").count()).toBe(0);

    // The choice is the server's: a reload shows the same branch.
    await p.reload();
    await p.getByText("Second answer.").waitFor();
    await p.getByTestId("versions").getByText("1/2").waitFor();
  });
});

describe("edits and deletes", () => {
  it("editing the person's message gives a new branch, and deleting a message can be undone", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/job-interview`);
    await p.getByTestId("message-assistant").first().waitFor();
    upstream.enqueue({ kind: "stream", chunks: ["Tell me more."] }, { kind: "stream", chunks: ["Interesting."] });
    await sendAndAwaitReply(p, "I led a team of five.");
    await sendAndAwaitReply(p, "We shipped on time.");

    // Edit the first message: the thread below it is replaced by the answer to the new text.
    upstream.enqueue({ kind: "stream", chunks: ["Eight people, ", "impressive."], delayMs: 20 });
    const first = p.getByTestId("message-user").first();
    await first.getByRole("button", { name: "Edit" }).click();
    const box = p.getByLabel("Edit message");
    await box.fill("I led a team of eight.");
    await p.getByRole("button", { name: "Save and send" }).click();
    await p.getByText("Eight people, impressive.").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    expect(await p.getByText("We shipped on time.").count()).toBe(0);
    await p.getByTestId("message-user").first().getByTestId("versions").getByText("2/2").waitFor();
    await p.screenshot({ path: path.join(SHOTS, "chat-edit-desktop.png"), fullPage: true });
    // The original is a version away, with what followed it.
    await p.getByTestId("message-user").first().getByRole("button", { name: "Previous version" }).click();
    await p.getByText("We shipped on time.").waitFor();

    // Delete the second message: it and its answer leave; Undo brings them back.
    await p.getByTestId("message-user").nth(1).getByRole("button", { name: "Delete" }).click();
    await p.getByTestId("undo-delete").waitFor();
    expect(await p.getByText("We shipped on time.").count()).toBe(0);
    expect(await p.getByText("Interesting.").count()).toBe(0);
    await p.getByRole("button", { name: "Undo" }).click();
    await p.getByText("We shipped on time.").waitFor();
    await p.getByText("Interesting.").waitFor();

    // Continue in a new conversation from the first answer: the copy ends there, and stays after a reload.
    await p.getByTestId("message-assistant").nth(1).getByRole("button", { name: "Continue in a new conversation from here" }).click();
    await expect.poll(() => p.getByText("We shipped on time.").count()).toBe(0);
    await p.getByText("Tell me more.").waitFor();
    await p.reload();
    await p.getByText("Tell me more.").waitFor();
    expect(await p.getByText("We shipped on time.").count()).toBe(0);
  });
});

describe("your conversations", () => {
  it("lists every conversation, newest first, and opens an older one", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/refund-request`);
    await p.getByTestId("message-assistant").first().waitFor();
    // The second answer is long: its last line on the list is cut to the width, not the page widened.
    const long = " It went on".repeat(40) + ".";
    upstream.enqueue({ kind: "stream", chunks: ["About the first."] }, { kind: "stream", chunks: ["About the second.", long] });
    await sendAndAwaitReply(p, "The first conversation.");
    await p.getByRole("button", { name: "New conversation", exact: true }).click();
    await expect.poll(() => p.getByText("The first conversation.").count()).toBe(0);
    await sendAndAwaitReply(p, "The second conversation.");

    await p.getByRole("link", { name: "Conversations" }).click();
    await p.waitForURL(/\/conversations$/);
    const items = p.getByTestId("conversation");
    await items.first().waitFor();
    expect(await items.count()).toBe(2);
    expect(await items.first().textContent()).toContain("About the second.");
    // Titled by the first thing the person said, with the number of messages.
    expect(await items.first().textContent()).toContain("The second conversation.");
    expect(await items.first().textContent()).toContain("3 messages");
    const overflow = () => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBe(0);
    const viewport = p.viewportSize()!;
    await p.setViewportSize({ width: 390, height: 844 });
    expect(await overflow()).toBe(0);
    await p.setViewportSize(viewport);

    // Renamed in place.
    await p.getByRole("button", { name: "Rename The second conversation." }).click();
    await p.getByLabel("Conversation title").fill("Second try");
    await p.getByLabel("Conversation title").press("Enter");
    await expect.poll(() => p.getByTestId("conversation-title").first().textContent()).toBe("Second try");

    // Deleted after a confirmation, then brought back with Undo.
    await p.getByRole("button", { name: "Delete Second try" }).click();
    await p.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => items.count()).toBe(1);
    await p.getByTestId("undo-delete-conversation").getByRole("button", { name: "Undo" }).click();
    await expect.poll(() => items.count()).toBe(2);
    await p.screenshot({ path: path.join(SHOTS, "conversations-desktop.png"), fullPage: true });

    // The search looks through the messages themselves: "first" is in neither title nor last line of the other.
    await p.getByLabel("Search conversations").fill("first conversation");
    await expect.poll(() => items.count()).toBe(1);
    await p.setViewportSize(PHONE);
    await p.screenshot({ path: path.join(SHOTS, "conversations-phone.png"), fullPage: true });
    await p.setViewportSize(DESKTOP);
    await items.first().click();
    await p.waitForURL(/\/s\/refund-request$/);
    await p.getByText("The first conversation.").waitFor();
    await p.getByText("About the first.").waitFor();
  });
});

describe("export and import", () => {
  it("exports a conversation as SillyTavern JSONL and importing the file gives the same thread", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/refund-request`);
    await p.getByTestId("message-assistant").first().waitFor();
    upstream.enqueue({ kind: "stream", chunks: ["First answer."] }, { kind: "stream", chunks: ["Second answer."] });
    await sendAndAwaitReply(p, "Exported line one.");
    await sendAndAwaitReply(p, "Exported line two.");
    const texts = async () => p.getByTestId("message-text").allTextContents();
    const before = await texts();

    await p.getByLabel("More").click();
    const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("menuitem", { name: /SillyTavern/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.jsonl$/);
    const file = await download.path();

    await p.getByRole("link", { name: "Conversations" }).click();
    await p.getByText("Import a SillyTavern chat").click();
    // The file input takes a file once the scenarios to import into have loaded (it is disabled until then).
    await expect.poll(() => p.getByLabel("Scenario to import into").inputValue(), { timeout: 15_000 }).toBe("refund-request");
    await p.getByLabel("Chat file").setInputFiles(file);
    await p.waitForURL(/\/s\/refund-request$/);
    await p.getByText("Second answer.").waitFor();
    expect(await texts()).toEqual(before);
    await p.getByRole("link", { name: "Conversations" }).click();
    await expect.poll(() => p.getByTestId("conversation").count()).toBe(2);
  });
});

describe("personas", () => {
  it("sets who the person is: {{user}} and {{char}} read as names, the character is told the description, and a conversation may have its own", async () => {
    const p = await openPage();
    await p.goto(parley.url);
    await p.getByRole("button", { name: "Set your persona" }).click();
    await p.getByLabel(/Your name in the story/).fill("Sam");
    await p.getByLabel(/About you/).fill("A night-shift nurse.");
    await p.getByRole("button", { name: "Save persona" }).click();
    await expect.poll(() => p.getByTestId("persona-name").textContent()).toBe("Sam");

    await p.getByTestId("scenario-card").first().click();
    await p.getByTestId("message-assistant").first().waitFor();
    upstream.enqueue({ kind: "stream", chunks: ["Noted, {{user}}."] });
    await sendAndAwaitReply(p, "Hi {{char}}, I am {{user}}.");
    const name = (await p.locator(".chat-title h1").textContent())!;
    await p.getByText(`Hi ${name}, I am Sam.`).waitFor();
    await p.getByText("Noted, Sam.").waitFor();
    expect(upstream.requests.at(-1)!.body.messages[0]!.content).toContain("About Sam, the person you are talking with: A night-shift nurse.");

    // This conversation only: the thread reads the other name, the usual persona stays.
    await p.getByRole("button", { name: "Your persona" }).click();
    await p.getByLabel(/Your name in the story/).fill("Alex");
    await p.getByLabel("This conversation only").check();
    await p.getByRole("button", { name: "Save persona" }).click();
    await p.getByText(`Hi ${name}, I am Alex.`).waitFor();
    await p.screenshot({ path: path.join(SHOTS, "persona-desktop.png") });
    await p.goto(parley.url);
    await expect.poll(() => p.getByTestId("persona-name").textContent()).toBe("Sam");
  });
});

describe("chat", () => {
  it("streams a reply, renders *actions* in italics, and finds the history after a reload", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/refund-request`);
    await p.getByText("Finally, a human being").waitFor();

    upstream.enqueue({
      kind: "stream",
      chunks: ["*leans ", "back in ", "her chair* ", "Fine. ", "I'm listening. ", "What are you ", "offering?"],
      delayMs: 20,
      pauseAfter: 3,
    });
    await sendMessage(p, "I'm sorry. Let me make this right.");
    // The reply is visible while it is still streaming: the upstream pauses midway until we have looked.
    const streaming = p.getByTestId("streaming-reply");
    await streaming.filter({ hasText: "leans back in her chair" }).waitFor();
    expect(await streaming.textContent()).not.toContain("offering?");
    expect(await p.getByRole("button", { name: "Stop" }).isVisible()).toBe(true);
    upstream.resume();
    await p.getByTestId("message-assistant").nth(1).waitFor();
    await streaming.waitFor({ state: "detached" });

    const reply = p.getByTestId("message-assistant").last();
    expect(await reply.locator("em").first().textContent()).toBe("leans back in her chair");
    expect(await reply.textContent()).toContain("What are you offering?");
    await p.screenshot({ path: path.join(SHOTS, "chat-desktop.png") });

    await p.reload();
    await p.getByText("I'm sorry. Let me make this right.").waitFor();
    expect(await p.getByTestId("message-assistant").last().textContent()).toContain("What are you offering?");
    expect(await p.getByTestId("message-user").count()).toBe(1);
  });

  it("follows the newest reply to its end, and leaves a person who scrolled up to read where they are", async () => {
    // Replies taller than the screen, so that a view left behind shows.
    const long = (n: number) => ({
      kind: "stream" as const,
      chunks: Array.from({ length: 30 }, (_, i) => `Reply ${n}, sentence ${i + 1}, long enough to wrap over the width of the bubble. `),
    });
    const p = await openPage();
    await p.goto(`${parley.url}/s/refund-request`);
    const replies = p.getByTestId("message-assistant");
    const composer = p.getByLabel("Your message");
    // The end of the newest reply sits above the composer, on screen.
    const endShown = async () => {
      const [reply, box] = await Promise.all([replies.last().boundingBox(), composer.boundingBox()]);
      return !!reply && !!box && reply.y + reply.height <= box.y + 2 && reply.y + reply.height > 0;
    };
    for (const n of [1, 2, 3]) {
      upstream.enqueue(long(n));
      await sendMessage(p, `Message ${n}`);
      // Counted by text: the list renders only the messages near the screen, so counting them says little.
      await replies.filter({ hasText: `Reply ${n}, sentence 30` }).waitFor({ state: "attached" });
      await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
      await expect.poll(endShown).toBe(true);
      expect(await replies.last().textContent()).toContain(`Reply ${n}, sentence 30`);
    }

    // Scrolled up while the character writes: the reply grows below without pulling the page down.
    upstream.enqueue({ ...long(4), pauseAfter: 3 });
    await sendMessage(p, "Message 4");
    await p.getByTestId("streaming-reply").filter({ hasText: "Reply 4, sentence 3" }).waitFor();
    await p.mouse.move(640, 300);
    await p.mouse.wheel(0, -100_000);
    await expect.poll(() => p.evaluate(() => window.scrollY)).toBe(0);
    upstream.resume();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    // The reply is in the thread, far below (so not rendered): the page offers to regenerate it.
    await p.getByRole("button", { name: "↻ Regenerate" }).waitFor({ state: "attached" });
    // Two frames: whatever the grown thread makes the page do (resize observers, the list's own measuring) has been done.
    await p.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    expect(await p.evaluate(() => window.scrollY)).toBe(0);

    // Sending again brings the person back to the end of the thread.
    upstream.enqueue(long(5));
    await sendMessage(p, "Message 5");
    await replies.filter({ hasText: "Reply 4, sentence 30" }).waitFor({ state: "attached" });
    await replies.filter({ hasText: "Reply 5, sentence 30" }).waitFor({ state: "attached" });
    await expect.poll(endShown).toBe(true);
    expect(await replies.last().textContent()).toContain("Reply 5, sentence 30");
  });

  it("keeps the partial reply when Stop is pressed mid-reply, across a reload", async () => {
    upstream.enqueue({ kind: "stream", chunks: ["*pauses* ", "Well, ", "the thing is", " never sent"], holdAfter: 3 });
    const p = await openPage();
    await p.goto(`${parley.url}/s/salary-negotiation`);
    await sendMessage(p, "I'd like to discuss the base salary.");
    await p.getByTestId("streaming-reply").filter({ hasText: "the thing is" }).waitFor();
    await p.getByRole("button", { name: "Stop" }).click();
    await upstream.requests[0]!.closed; // Parley cancelled the upstream request

    const kept = p.getByTestId("message-assistant").filter({ hasText: "Stopped" });
    await kept.waitFor();
    expect(await kept.textContent()).toContain("Well, the thing is");

    // The server stores the partial reply as it notices the disconnect; reload until it shows.
    await expect
      .poll(
        async () => {
          await p.reload();
          await p.getByText("I'd like to discuss the base salary.").waitFor();
          return p.getByTestId("message-assistant").last().getAttribute("data-finish");
        },
        { timeout: 15_000 },
      )
      .toBe("aborted");
    expect(await p.getByTestId("message-assistant").last().textContent()).toContain("Well, the thing is");
    expect(await p.getByTestId("message-assistant").last().textContent()).toContain("Stopped");
  });

  it("shows HTML in a message as text and never runs it", async () => {
    const xss = "<img src=x onerror=alert(1)>";
    const p = await openPage();
    await p.goto(`${parley.url}/s/the-gilded-tankard`);
    await sendAndAwaitReply(p, xss);
    await p.getByTestId("message-user").filter({ hasText: xss }).waitFor();
    expect(await p.locator(".messages .bubble img").count()).toBe(0);
    await p.reload();
    await p.getByTestId("message-user").filter({ hasText: xss }).waitFor();
    expect(await p.locator(".messages .bubble img").count()).toBe(0);
  });

  it("regenerates the last reply, and Shift+Enter adds a line instead of sending", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/job-interview`);
    const box = p.getByLabel("Your message");
    await box.fill("First line");
    await box.press("Shift+Enter");
    await box.type("second line");
    expect(await box.inputValue()).toBe("First line\nsecond line");
    await box.press("Enter");
    await p.getByTestId("message-assistant").filter({ hasText: "offering?" }).waitFor();
    await p.getByTestId("message-user").filter({ hasText: "second line" }).waitFor();

    upstream.enqueue({ kind: "stream", chunks: ["A different take."] });
    await p.getByRole("button", { name: /Regenerate/ }).click();
    await p.getByTestId("message-assistant").filter({ hasText: "A different take." }).waitFor();
    expect(await p.getByText("What are you offering?").count()).toBe(0);
    expect(await p.getByTestId("message-assistant").count()).toBe(2);
  });

  it("starts a new session once 30 minutes have passed since the last activity", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/landlord-dispute`);
    await sendAndAwaitReply(p, "The heating has been off for nine days.");
    await p.reload();
    await p.getByText("The heating has been off for nine days.").waitFor();

    await p.evaluate(() => {
      const key = "parley.session.landlord-dispute";
      const entry = JSON.parse(localStorage.getItem(key)!);
      localStorage.setItem(key, JSON.stringify({ ...entry, lastActive: Date.now() - 31 * 60 * 1000 }));
    });
    await p.reload();
    await p.getByText("the heating engineer is booked up").waitFor();
    expect(await p.getByTestId("message-user").count()).toBe(0);
  });

  it("refuses an over-long message in the composer with a readable reason, keeping the draft", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/job-interview`);
    const box = p.getByLabel("Your message");
    const draft = "a".repeat(8001);
    await box.fill(draft);
    await p.getByText("8,001 / 8,000 characters: too long to send").waitFor();
    expect(await p.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    expect(await box.getAttribute("aria-invalid")).toBe("true");
    await box.press("Enter");
    expect(await box.inputValue()).toBe(draft);
    expect(await p.getByTestId("message-user").count()).toBe(0);
    expect(upstream.requests).toHaveLength(0);
  });

  it("enhances a draft in place: editable, undoable, sent as edited; a failure keeps the draft", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/salary-negotiation`);
    const box = p.getByLabel("Your message");
    await box.fill("i want more money pls");
    upstream.enqueue({ kind: "stream", chunks: ['"I would like ', "to discuss a higher salary.", '"'], pauseAfter: 1 });
    await p.getByRole("button", { name: "Enhance" }).click();
    await p.getByText("Enhancing your draft…").waitFor();
    expect(await p.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    upstream.resume();
    await p.getByText("Enhanced: edit it, send it, or undo").waitFor();
    expect(await box.inputValue()).toBe("I would like to discuss a higher salary."); // the quotes the model added are gone
    await p.screenshot({ path: path.join(SHOTS, "chat-enhanced-draft.png") });

    const enhanceCall = upstream.requests[0]!;
    expect(enhanceCall.body).toMatchObject({ temperature: 0.5, max_tokens: 200, top_p: 0.9 });
    expect(enhanceCall.body.messages.at(-1)!.content).toContain("i want more money pls");

    await p.getByRole("button", { name: "Undo" }).click();
    expect(await box.inputValue()).toBe("i want more money pls");

    upstream.enqueue({ kind: "status", status: 400, body: { error: { message: "Input rejected by the provider" } } });
    await p.getByRole("button", { name: "Enhance" }).click();
    await p.getByRole("alert").filter({ hasText: "Input rejected by the provider" }).waitFor();
    expect(await box.inputValue()).toBe("i want more money pls");

    upstream.enqueue({ kind: "stream", chunks: ["I would like to discuss my salary."] });
    await p.getByRole("button", { name: "Enhance" }).click();
    await p.getByText("Enhanced: edit it, send it, or undo").waitFor();
    await box.press("End");
    await box.type(" Now.");
    await box.press("Enter");
    await p.getByTestId("message-user").filter({ hasText: "I would like to discuss my salary. Now." }).waitFor();
    await p.getByTestId("message-assistant").filter({ hasText: "offering?" }).waitFor();
  });

  it("is usable at phone width", async () => {
    const p = await openPage(PHONE);
    await p.goto(`${parley.url}/s/rain-on-the-boulevard`);
    await sendAndAwaitReply(p, "I was at the Blue Lantern. So what?");
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const send = await p.getByLabel("Your message").boundingBox();
    expect(send!.x + send!.width).toBeLessThanOrEqual(PHONE.width);
    await p.screenshot({ path: path.join(SHOTS, "chat-phone.png") });
  });

  it("on a touch screen, takes Enter as a new line and sends with the button", async () => {
    const p = await openPage(PHONE, { hasTouch: true, isMobile: true });
    await p.goto(`${parley.url}/s/rain-on-the-boulevard`);
    await p.getByTestId("message-assistant").first().waitFor();
    await p.getByText("Enter for a new line · Send to send").waitFor();
    const box = p.getByLabel("Your message");
    await box.fill("*sits down*");
    await box.press("Enter");
    await box.pressSequentially("I was at the Blue Lantern.");
    expect(await box.inputValue()).toBe("*sits down*\nI was at the Blue Lantern.");
    expect(await p.getByTestId("message-user").count()).toBe(0);
    await p.getByRole("button", { name: "Send" }).tap();
    await p.getByTestId("message-user").filter({ hasText: "I was at the Blue Lantern." }).waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    expect(await box.inputValue()).toBe("");
    // Editing a message the same way: Enter adds a line, the button saves.
    await p.getByTestId("message-user").getByRole("button", { name: "Edit", exact: true }).tap();
    const edit = p.getByLabel("Edit message");
    await edit.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(el.value.length, el.value.length));
    await edit.press("Enter");
    await edit.pressSequentially("Late.");
    expect(await edit.inputValue()).toBe("*sits down*\nI was at the Blue Lantern.\nLate.");
    await p.getByRole("button", { name: "Cancel" }).tap();
    await edit.waitFor({ state: "detached" });
  });
});

describe("the conversation's ⋯ menu", () => {
  it("exports the conversation; opens on its first item, moves by arrow keys, and closes on Escape, a click elsewhere or a choice", async () => {
    const p = await openPage();
    await p.goto(`${parley.url}/s/refund-request`);
    await sendAndAwaitReply(p, "About the desk.");
    const menu = p.locator("details.menu");
    const summary = menu.locator("summary");
    const isOpen = () => menu.evaluate((d: HTMLDetailsElement) => d.open);
    const focused = () => p.evaluate(() => document.activeElement?.textContent?.trim());
    const markdown = p.getByRole("menuitem", { name: "Export as Markdown (.md)" });

    await summary.click();
    await markdown.waitFor();
    expect(await accessibilityViolations(p)).toEqual([]);
    expect(await focused()).toBe("Export for SillyTavern (.jsonl)");
    await p.keyboard.press("ArrowDown");
    expect(await focused()).toBe("Export as Markdown (.md)");
    await p.keyboard.press("ArrowDown");
    expect(await focused()).toBe("Export for SillyTavern (.jsonl)");
    await p.keyboard.press("End");
    expect(await focused()).toBe("Export as Markdown (.md)");
    await p.keyboard.press("Escape");
    expect(await isOpen()).toBe(false);
    expect(await summary.evaluate((el) => el === document.activeElement)).toBe(true);

    await summary.click();
    await markdown.waitFor();
    await p.getByTestId("message-user").first().click();
    expect(await isOpen()).toBe(false);

    await summary.click();
    const [download] = await Promise.all([p.waitForEvent("download"), markdown.click()]);
    expect(download.suggestedFilename()).toMatch(/\.md$/);
    expect(readFileSync(await download.path(), "utf8")).toContain("About the desk.");
    expect(await isOpen()).toBe(false);
  });
});

describe("accessibility", () => {
  it("finds nothing for axe-core (WCAG 2.1 AA) on the gallery, a chat, the persona editor and the conversations, light and dark", async () => {
    for (const colorScheme of ["light", "dark"] as const) {
      const p = await openPage(DESKTOP, { colorScheme });
      const check = async (where: string) => expect({ colorScheme, where, violations: await accessibilityViolations(p) }).toEqual({ colorScheme, where, violations: [] });
      await p.goto(parley.url);
      await p.getByTestId("scenario-card").first().waitFor();
      await check("gallery");
      await p.goto(`${parley.url}/s/salary-negotiation`);
      await sendAndAwaitReply(p, "I would like to talk about the offer.");
      await check("chat");
      await p.getByRole("button", { name: /^Your persona/ }).click();
      await p.getByRole("textbox", { name: /name/i }).first().waitFor();
      await check("persona editor");
      await p.goto(`${parley.url}/conversations`);
      await p.getByTestId("conversation").first().waitFor();
      await check("conversations");
      await context.close();
    }
  });
});

describe("without a model provider", () => {
  it("keeps the message and points to the README", async () => {
    const bare = await startParley();
    try {
      const p = await openPage();
      await p.goto(`${bare.url}/s/refund-request`);
      await sendMessage(p, "Hello?");
      const alert = p.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toContain("No model provider is configured");
      expect(await alert.textContent()).toContain("Connect a model");
      // The pointer is a sentence of its own after the server's message (which ends without a full stop).
      expect(await alert.textContent()).toMatch(/worker\. How to:/);
      // The message has no reply: the action asks for one rather than offering to regenerate.
      await p.getByRole("button", { name: "↻ Get a reply" }).waitFor();
      expect(await p.getByRole("button", { name: "↻ Regenerate" }).count()).toBe(0);
      await p.reload();
      await p.getByText("Hello?").waitFor();
    } finally {
      await bare.stop();
    }
  });
});

describe("over the rate limit", () => {
  it("says when the person can send again, counts down, and keeps the draft", async () => {
    const limited = await startParley({ env: { OPENROUTER_API_KEY: "sk-or-e2e", OPENROUTER_BASE_URL: upstream.baseUrl, RATE_LIMIT_PER_MIN: "2" } });
    onTestFailed(async () => console.error(`--- the limited Parley's log ---\n${limited.logs.filter((l) => l.includes("request")).slice(-20).join("\n")}\n--- page ---\n${await page.locator("main").innerText().catch(() => "")}`));
    try {
      const p = await openPage();
      await p.goto(`${limited.url}/s/refund-request`);
      await sendAndAwaitReply(p, "First");
      await sendAndAwaitReply(p, "Second");
      await sendMessage(p, "A third, too soon");

      const alert = p.getByRole("alert");
      await alert.getByText(/You can send again in \d+ s, at .+\. Your draft is kept\./).waitFor();
      expect(await p.getByLabel("Your message").inputValue()).toBe("A third, too soon");
      const send = p.getByRole("button", { name: /^Send in \d+ s$/ });
      expect(await send.isDisabled()).toBe(true);
      expect(await p.getByRole("button", { name: "Enhance" }).isDisabled()).toBe(true);
      // Not stored and not shown as sent: only the two accepted messages are in the thread.
      expect(await p.getByTestId("message-user").getByTestId("message-text").allTextContents()).toEqual(["First", "Second"]);
      await p.screenshot({ path: path.join(SHOTS, "chat-rate-limited.png") });

      // The countdown moves by itself.
      const first = Number(/in (\d+) s/.exec((await send.textContent()) ?? "")![1]);
      await p.getByRole("button", { name: new RegExp(`^Send in (?!${first} s)\\d+ s$`) }).waitFor();
      // The draft can still be edited while waiting.
      await p.getByLabel("Your message").fill("Edited while waiting");
      expect(await p.getByLabel("Your message").inputValue()).toBe("Edited while waiting");
    } finally {
      await limited.stop();
    }
  });
});
