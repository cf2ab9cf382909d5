import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { BUILTIN_SCENARIOS } from "../../server/scenarios/builtin.js";
import { accessibilityViolations } from "../support/accessibility.js";
import { launchBrowser } from "../support/browser.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/** A practice conversation in a real Chromium: objectives, a hint, feedback with linked quotes, and progress over two attempts. */
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");
const refund = BUILTIN_SCENARIOS.find((s) => s.slug === "refund-request")!;

let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let browser: Browser;
const pageErrors: string[] = [];

const SORRY = "I'm really sorry about the scratched desk and that nobody answered your four emails.";
const OFFER = "I can send a replacement by express shipping this week, or refund you in full today.";
const debrief = (score: number) =>
  JSON.stringify({
    objectives: [
      { objective: 1, rating: "met", evidence: ["really sorry about the scratched desk"], comment: "You named the problem first." },
      { objective: 2, rating: "met", evidence: ["nobody answered your four emails"], comment: "You owned it." },
      { objective: 3, rating: "partly", evidence: [], comment: "Add a date to the offer." },
      { objective: 4, rating: "not_met", evidence: [], comment: "Dana has not agreed yet." },
    ],
    score,
    strengths: ["Empathy before solutions", "No excuses"],
    tryNext: "Ask Dana which option she prefers, then confirm it.",
    weakest: { quote: SORRY, better: "I'm sorry: a scratched desk and four unanswered emails is not okay. Let me fix it now." },
  });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await ScriptedUpstream.start();
  upstream.setDefault({ kind: "stream", chunks: ["*sighs* ", "Go on, then."] });
  [parley, browser] = await Promise.all([startParley({ env: { OPENROUTER_API_KEY: "sk-or-e2e", OPENROUTER_BASE_URL: upstream.baseUrl } }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await upstream?.close();
  expect(pageErrors).toEqual([]);
});
beforeEach(() => {
  onTestFailed(() => console.error(`--- Parley's last log lines ---\n${parley.logs.slice(-40).join("\n")}`));
});

async function send(p: Page, text: string) {
  await p.getByLabel("Your message").fill(text);
  await p.getByLabel("Your message").press("Enter");
  await p.getByText(text).first().waitFor();
  await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
}

describe("practice", () => {
  it("shows the objectives, gives a hint, debriefs with quotes that lead to the messages, and charts a second attempt", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const p = await context.newPage();
    p.on("pageerror", (err) => pageErrors.push(err.message));
    await p.goto(`${parley.url}/s/refund-request`);

    const panel = p.getByTestId("practice-panel");
    for (const o of refund.objectives) await panel.getByText(o).waitFor();
    expect(await panel.getByTestId("turn-count").innerText()).toContain("turn 0 of 12");
    await send(p, SORRY);

    upstream.enqueue({ kind: "stream", chunks: ["Offer her something concrete, ", "with a date."] });
    await p.getByRole("button", { name: "Ask for a hint" }).click();
    await p.getByTestId("hint").getByText("Offer her something concrete, with a date.").waitFor();
    // The hint is not part of the conversation.
    expect(await p.getByTestId("message-text").filter({ hasText: "Offer her something concrete" }).count()).toBe(0);
    await send(p, OFFER);
    expect(await panel.getByTestId("turn-count").innerText()).toContain("turn 2 of 12");

    upstream.enqueue({ kind: "stream", chunks: [debrief(64)] });
    await p.getByRole("button", { name: "Finish and get feedback" }).click();
    const card = p.getByTestId("debrief");
    await card.getByTestId("debrief-score").getByText("64").waitFor();
    await card.getByText("Ask Dana which option she prefers, then confirm it.").waitFor();
    await card.getByText("Empathy before solutions").waitFor();
    // A quote leads to the message it came from.
    await card.getByRole("link", { name: "“really sorry about the scratched desk”" }).click();
    await p.locator(".message-row.highlighted").getByText(SORRY).waitFor();
    await p.screenshot({ path: path.join(SHOTS, "practice-debrief.png"), fullPage: true });
    expect(await accessibilityViolations(p)).toEqual([]);
    await p.setViewportSize({ width: 390, height: 844 });
    // At phone width the actions under the thread wrap as whole buttons, each label on one line.
    const lines = await p.locator(".chat-actions button").evaluateAll((buttons) =>
      buttons.map((b) => {
        const range = document.createRange();
        range.selectNodeContents(b);
        return [b.textContent, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
      }),
    );
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const [label, count] of lines) expect({ label, lines: count }).toEqual({ label, lines: 1 });
    await p.screenshot({ path: path.join(SHOTS, "practice-debrief-phone.png"), fullPage: true });
    await p.setViewportSize({ width: 1280, height: 900 });

    // Reopened, the feedback is still there.
    await p.reload();
    await p.getByTestId("debrief").getByTestId("debrief-score").getByText("64").waitFor();

    // A second attempt: a new conversation, better this time.
    await p.getByRole("button", { name: "New conversation", exact: true }).click();
    await send(p, SORRY);
    upstream.enqueue({ kind: "stream", chunks: [debrief(85)] });
    await p.getByRole("button", { name: "Finish and get feedback" }).click();
    await p.getByTestId("debrief").getByTestId("debrief-score").getByText("85").waitFor();
    // The panel folds away once the conversation has begun; opened, it shows the progress.
    await p.getByTestId("practice-panel").locator("summary").click();
    const chart = p.getByTestId("practice-panel").getByTestId("score-chart");
    // The progress is asked for again after the debrief; its answer may come a moment later.
    await chart.locator("circle").nth(1).waitFor();
    expect(await chart.locator("circle").count()).toBe(2);
    expect(await chart.getAttribute("aria-label")).toContain("64, 85");
    await p.getByTestId("practice-panel").getByText(/Most often missed/).waitFor();

    // The conversations list shows the scores and the chart too.
    await p.goto(`${parley.url}/conversations`);
    const progress = p.getByTestId("practice-progress");
    await progress.getByText("The Refund Request").waitFor();
    await progress.locator("circle").nth(1).waitFor();
    expect(await p.getByTestId("conversation-score").allInnerTexts()).toEqual(["score 85", "score 64"]);
    await p.screenshot({ path: path.join(SHOTS, "practice-progress.png"), fullPage: true });
    expect(await accessibilityViolations(p)).toEqual([]);
    await p.setViewportSize({ width: 390, height: 844 });
    await p.screenshot({ path: path.join(SHOTS, "practice-progress-phone.png"), fullPage: true });
    await context.close();
  });
});
