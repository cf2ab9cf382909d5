import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { accessibilityViolations } from "../support/accessibility.js";
import { launchBrowser } from "../support/browser.js";
import { cardPng, png } from "../support/cards.js";
import { startParley, type ParleyProcess } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

/** Bringing one's own characters in a real Chromium: cards dropped on the gallery, then a chat with one. */
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");

let upstream: ScriptedUpstream;
let parley: ParleyProcess;
let browser: Browser;
const pageErrors: string[] = [];

const card = (name: string, greeting: string, alternate: string) => ({
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: { name, description: `${name} keeps a lighthouse.`, first_mes: greeting, alternate_greetings: [alternate], creator: "Ada", tags: ["cozy"] },
});

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await ScriptedUpstream.start();
  upstream.setDefault({ kind: "stream", chunks: ["The lamp ", "is lit."] });
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

/** Drops files on an element as a person dragging them from their desktop would. */
async function dropFiles(p: Page, testId: string, files: { name: string; type: string; bytes: Buffer }[]) {
  const transfer = await p.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString("base64") })));
  const zone = p.getByTestId(testId);
  await zone.dispatchEvent("dragover", { dataTransfer: transfer });
  await zone.dispatchEvent("drop", { dataTransfer: transfer });
}

/** A new browser (a new person) on a page of its own. */
async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const p = await context.newPage();
  p.on("pageerror", (err) => pageErrors.push(err.message));
  return { context, p };
}

describe("my characters", () => {
  it("takes two cards and a broken file dropped together, and chats with one, its alternate greeting a swipe away", async () => {
    const { context, p } = await openPage();
    await p.goto(parley.url);
    await p.getByTestId("card-drop-zone").waitFor();

    await dropFiles(p, "card-drop-zone", [
      { name: "keeper.png", type: "image/png", bytes: cardPng(card("Old Keeper", "Mind the stairs.", "Back so soon?")) },
      { name: "gull.json", type: "application/json", bytes: Buffer.from(JSON.stringify(card("Gull", "Caw.", "Caw caw."))) },
      { name: "broken.png", type: "image/png", bytes: png([], { badCrcOn: "IHDR" }) },
    ]);
    const results = p.getByTestId("import-result");
    await p.getByText("broken.png: Not imported").waitFor();
    await p.getByText("keeper.png: Imported as Old Keeper").waitFor();
    await p.getByText("gull.json: Imported as Gull").waitFor();
    expect(await results.count()).toBe(3);
    expect(await p.getByText("The PNG is corrupt").count()).toBe(1);
    const mine = p.getByRole("region", { name: "My characters" });
    await mine.getByRole("heading", { name: "Old Keeper" }).waitFor();
    await mine.getByRole("heading", { name: "Gull" }).waitFor();
    await p.screenshot({ path: path.join(SHOTS, "characters-imported.png"), fullPage: true });
    expect(await accessibilityViolations(p)).toEqual([]);

    // Exported as a PNG and brought back, it is recognised as the same card.
    const download = p.waitForEvent("download");
    await mine.getByRole("listitem").filter({ has: p.getByRole("heading", { name: "Old Keeper" }) }).getByRole("link", { name: "PNG" }).click();
    const exported = await (await download).path();
    await dropFiles(p, "card-drop-zone", [{ name: "exported.png", type: "image/png", bytes: readFileSync(exported) }]);
    await p.getByText("exported.png: Already imported as Old Keeper").waitFor();

    // The same card again is recognised.
    await dropFiles(p, "card-drop-zone", [{ name: "keeper-again.png", type: "image/png", bytes: cardPng(card("Old Keeper", "Mind the stairs.", "Back so soon?")) }]);
    await p.getByText("keeper-again.png: Already imported as Old Keeper").waitFor();

    await mine.getByRole("heading", { name: "Old Keeper" }).click();
    await p.getByText("Mind the stairs.").waitFor();
    // The alternate greeting is chosen before writing: the conversation starts there.
    const opening = p.getByTestId("message-assistant").first();
    await opening.getByTestId("versions").getByText("1/2").waitFor();
    await opening.getByRole("button", { name: "Next version" }).click();
    await p.getByText("Back so soon?").waitFor();
    await p.getByLabel("Your message").fill("Is the lamp lit?");
    await p.getByLabel("Your message").press("Enter");
    await p.getByText("The lamp is lit.").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    const sent = upstream.requests.at(-1)!.body.messages as { role: string; content: string }[];
    expect(sent.find((m) => m.role === "assistant")!.content).toBe("Back so soon?");
    await opening.getByTestId("versions").getByText("2/2").waitFor();

    // Swiped back to the first greeting, the conversation below the other one is not there.
    await opening.getByRole("button", { name: "Previous version" }).click();
    await p.getByText("Mind the stairs.").waitFor();
    expect(await p.getByText("Is the lamp lit?").count()).toBe(0);
    await p.screenshot({ path: path.join(SHOTS, "characters-alternate-greeting.png"), fullPage: true });
    await context.close();
  });

  it("removes a character from the list, undoes it, and keeps its conversation open after removing it again", async () => {
    const { context, p } = await openPage();
    await p.goto(parley.url);
    await p.getByTestId("card-drop-zone").waitFor();
    await dropFiles(p, "card-drop-zone", [{ name: "ferry.json", type: "application/json", bytes: Buffer.from(JSON.stringify(card("Ferryman", "Fare, please.", "Again?"))) }]);
    await p.getByText("ferry.json: Imported as Ferryman").waitFor();
    const mine = p.getByRole("region", { name: "My characters" });
    const item = mine.getByRole("listitem").filter({ has: p.getByRole("heading", { name: "Ferryman" }) });
    await item.getByRole("heading", { name: "Ferryman" }).click();
    await p.getByLabel("Your message").fill("Across, please.");
    await p.getByLabel("Your message").press("Enter");
    await p.getByText("The lamp is lit.").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    await p.getByRole("link", { name: "All scenarios" }).click();

    // Removed, then undone: the card is back in the list.
    await item.getByRole("button", { name: "Remove" }).click();
    const undo = p.getByTestId("undo-remove-character");
    await undo.getByText("Ferryman removed from your characters").waitFor();
    await item.waitFor({ state: "detached" });
    await undo.getByRole("button", { name: "Undo" }).click();
    await item.getByRole("heading", { name: "Ferryman" }).waitFor();
    await undo.waitFor({ state: "detached" });

    // Removed for good: the conversation still opens from the list, says what happened, and goes on.
    await item.getByRole("button", { name: "Remove" }).click();
    await item.waitFor({ state: "detached" });
    await undo.getByRole("link", { name: "Your conversations" }).click();
    await p.getByTestId("conversation").filter({ hasText: "Ferryman" }).click();
    await p.getByTestId("withdrawn").getByText("You removed Ferryman from your characters").waitFor();
    await p.getByText("Across, please.").waitFor();
    expect(await p.getByRole("button", { name: "New conversation", exact: true }).isDisabled()).toBe(true);
    await p.getByLabel("Your message").fill("And back?");
    await p.getByLabel("Your message").press("Enter");
    await p.getByText("And back?").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    expect(await p.getByTestId("message-assistant").filter({ hasText: "The lamp is lit." }).count()).toBe(2);
    await p.screenshot({ path: path.join(SHOTS, "characters-removed-conversation.png"), fullPage: true });
    await context.close();
  });

  it("edits a character's lorebook entry, and the keyword in a message shows the entry in what the model saw", async () => {
    const { context, p } = await openPage();
    await p.goto(parley.url);
    const withBook = {
      ...card("Harbour Master", "State your business.", "Again?"),
    };
    (withBook.data as Record<string, unknown>).character_book = {
      name: "Port of Vell",
      entries: [{ keys: ["harbour"], content: "The harbour of Vell burned last spring.", extensions: {}, enabled: true, insertion_order: 10, name: "The fire" }],
    };
    await dropFiles(p, "card-drop-zone", [{ name: "master.png", type: "image/png", bytes: cardPng(withBook) }]);
    await p.getByText("master.png: Imported as Harbour Master").waitFor();
    const mine = p.getByRole("region", { name: "My characters" });
    await mine.getByRole("listitem").filter({ has: p.getByRole("heading", { name: "Harbour Master" }) }).getByRole("link", { name: "Edit character & lorebooks" }).click();

    // The card's book is attached; its entry now also answers to "docks".
    await p.getByTestId("attached-lorebook").filter({ hasText: "Port of Vell" }).getByRole("button", { name: "Edit entries" }).click();
    const editor = p.getByTestId("lorebook-editor");
    await editor.getByRole("button", { name: /The fire/ }).click();
    await editor.getByLabel("Keys", { exact: true }).fill("harbour, docks");
    await editor.getByLabel("Keys", { exact: true }).blur();
    await editor.getByRole("button", { name: "Save lorebook" }).click();
    await editor.getByRole("status").getByText("Saved.").waitFor();
    await p.screenshot({ path: path.join(SHOTS, "characters-lorebook-editor.png"), fullPage: true });
    expect(await accessibilityViolations(p)).toEqual([]);

    // Its description edited too: the character's page keeps it.
    await p.getByLabel("Personality").fill("gruff but fair");
    await p.getByRole("button", { name: "Save character" }).click();
    await p.getByRole("form", { name: "Character definition" }).getByRole("status").getByText("Saved.").waitFor();

    await p.getByRole("link", { name: "All scenarios" }).click();
    await mine.getByRole("heading", { name: "Harbour Master" }).click();
    await p.getByText("State your business.").waitFor();
    await p.getByLabel("Your message").fill("What happened at the docks?");
    await p.getByLabel("Your message").press("Enter");
    await p.getByText("The lamp is lit.").waitFor();
    await p.getByTestId("streaming-reply").waitFor({ state: "detached" });
    const sent = upstream.requests.at(-1)!.body.messages as { content: string }[];
    expect(sent[0]!.content).toContain("The harbour of Vell burned last spring.");
    expect(sent[0]!.content).toContain("gruff but fair");

    await p.getByTestId("message-assistant").last().getByRole("button", { name: "What the model saw" }).click();
    const inspector = p.getByTestId("prompt-inspector");
    await inspector.getByTestId("lore-fired").getByText("The fire").waitFor();
    expect(await inspector.getByTestId("lore-fired").innerText()).toContain("matched “docks”");
    await inspector.getByText("What happened at the docks?").first().waitFor();
    await p.screenshot({ path: path.join(SHOTS, "characters-what-the-model-saw.png"), fullPage: true });
    expect(await accessibilityViolations(p)).toEqual([]);
    // It holds the focus while open; Escape closes it and gives the focus back to its button.
    expect(await inspector.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await p.keyboard.press("Escape");
    await inspector.waitFor({ state: "detached" });
    expect(await p.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("What the model saw");
    await context.close();
  });
});
