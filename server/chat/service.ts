import type { DatabaseLifecycle } from "../db/lifecycle.js";
import type { Database } from "../db/client.js";
import { getPersona, savePersona } from "../db/queries/personas.js";
import { getPublicScenario, getScenarioToStart } from "../db/queries/scenarios.js";
import type { CardLorebook, CardV3 } from "../../contracts/character-card.js";
import type { PromptPartView, PromptReport, PromptReportView } from "../../contracts/prompt-report.js";
import { getReplyPrompt, messageTexts, saveReplyPrompt } from "../db/queries/reply-prompts.js";
import { resolveMacros } from "../../contracts/macros.js";
import type { MacroNames } from "../../contracts/macros.js";
import { lorebookFromCard } from "../cards/lorebook-formats.js";
import { characterPlan, DEFAULT_CHARACTER_PROMPT, LORE_SCAN_MESSAGES, type CharacterPlan } from "./character-prompt.js";
import {
  activePath,
  historyPath,
  claimSessionForReply,
  claimAndAddMessage,
  createSession,
  forkSession,
  getMessage,
  getOwnedSession,
  getOwnedSessionForReply,
  childrenOf,
  saveTokenCounts,
  importThread,
  insertMessage,
  isOnPath,
  listClientSessions,
  markSessionDeleted,
  updateSession as updateSessionRow,
  markDeleted,
  newestBelow,
  newestSibling,
  releaseReply,
  setLastLeaf,
  setLeaf,
  siblingsOf,
} from "../db/queries/sessions.js";
import type { MessageRow, SessionRow } from "../db/schema.js";
import { errorFields } from "../error-report.js";
import { AppError, badRequest, notFound } from "../errors.js";
import { GatewayError } from "../gateway/errors.js";
import type { Gateway, OpenStream } from "../gateway/gateway.js";
import type { Attempt, Cancellation, RequestRecord } from "../gateway/types.js";
import type { Logger } from "../logger.js";
import type { Persona } from "../../contracts/persona.js";
import { charsFor, compactHistory, hasText, macroNames, promptFitter, systemMessage } from "./prompt.js";
import { parseSillyTavernJsonl, toMarkdown, toSillyTavernJsonl, type ThreadEntry } from "./chat-files.js";
import { PathCache, type HistoryRow } from "./path-cache.js";
import { ReplyWriter, type Settled } from "./reply-writer.js";
import { MESSAGE_VIEW_FIELDS, pickFields, type MessagePageView, type MessageView, type ReplyEvent, type SessionView } from "../views.js";
import { merge } from "../merge.js";

/** However large a model's window (or when none says), a reply reads at most this much history: about 250,000 tokens. */
const HISTORY_MAX_CHARS = 1_000_000;
/** Text the history cache may hold across conversations (about 16 MB): a few dozen long stories at once. */
const PATH_CACHE_CHARS = 8_000_000;
/** Messages a conversation opens with, and per older page: a few screens, a few tens of KB. */
export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export type { MessageView, ReplyEvent };

export const toMessageView = (m: MessageRow): MessageView => pickFields(m, MESSAGE_VIEW_FIELDS);


/** A reply that could not start carries the reason; one that started streams its events. */
export type Reply =
  | { started: false; code: string; message: string; attempts: Attempt[] }
  | {
      started: true;
      provider: string;
      model: string;
      attempts: Attempt[];
      events: AsyncGenerator<ReplyEvent>;
      /**
       * Makes sure the reply is over: stored as far as it got and its session released, whether
       * `events` ran to the end, stopped halfway, or never started. Safe to call more than once.
       */
      finish(): Promise<void>;
    };

type ReplyContext = {
  db: ReturnType<DatabaseLifecycle["require"]>;
  clientId: string;
  sessionId: string;
  /** The scenario's private prompt: sent to the model, never to the browser. */
  systemPrompt: string;
  /** The character card the scenario came from: its prompt (and lorebook) instead of the system prompt. */
  card: CardV3 | null;
  /** The lorebooks the card's prompt draws on. */
  lorebooks: CardLorebook[];
  /** The scenario's own task and model, when an admin set them. */
  task: string | null;
  modelKey: string | null;
  /** Who the person is here (null: no persona set) and who they talk to: what the macros stand for. */
  persona: Persona | null;
  characterName: string;
  /** The reply this one replaces (regenerate), superseded once the new one has text. */
  replaces?: string;
  /** The message the reply answers: the new reply becomes its child. */
  parentId: string | null;
  /** That message when it was just written (the person's new message): the history cache may end with it. */
  written?: HistoryRow;
  writer: ReplyWriter;
  signal: Cancellation;
  /** The history the prompt was built from (set when the reply starts), for the cache. */
  history?: { rows: HistoryRow[]; maxChars: number };
  /** The prompt's fitter: the token counts it took are stored once the reply is over. */
  fit?: ReturnType<typeof promptFitter>;
  /** A card's prompt plan: the lore each window's prompt carried. */
  plan?: CharacterPlan;
};

export function createChatService(deps: {
  database: DatabaseLifecycle;
  gateway: Gateway;
  log: Logger;
  maxMessageChars: number;
  instanceId: string;
  /** How often a streaming reply is saved (and its session's claim renewed). */
  replySaveIntervalMs: number;
  /** How long a reply held back by a database outage is retried. */
  replyRetryMs: number;
}) {
  const { database, gateway, log } = deps;
  // A claim outlives a few missed renewals, and no more: a dead instance's lapses within seconds.
  const claimMs = Math.max(10_000, deps.replySaveIntervalMs * 3 + 5_000);
  /**
   * One reply at a time per session: a second would interleave with the first. The claim is in the
   * database, so it holds across instances; the map is this instance's own replies, for shutdown.
   */
  const replying = new Map<string, ReplyWriter>();
  /** The newest stretch of each active thread, so a reply reads none of its history from the database. */
  const paths = new PathCache(PATH_CACHE_CHARS);
  let onIdle: (() => void)[] = [];
  const released = (sessionId: string) => {
    replying.delete(sessionId);
    if (replying.size === 0) {
      const waiting = onIdle;
      onIdle = [];
      waiting.forEach((resolve) => resolve());
    }
  };

  /** Resolves once every reply under way has been stored: shutdown waits on it so none is lost. */
  function idle(): Promise<void> {
    return replying.size === 0 ? Promise.resolve() : new Promise((resolve) => onIdle.push(resolve));
  }

  async function startSession(clientId: string, slug: string) {
    const db = database.require();
    const scenario = await getScenarioToStart(db, slug, clientId);
    if (!scenario) throw notFound(`Scenario "${slug}"`);
    const session = await createSession(db, { clientId, scenarioId: scenario.id, openingMessage: scenario.openingMessage, alternateGreetings: scenario.alternateGreetings });
    return getSessionView(clientId, session.id);
  }

  async function listSessions(clientId: string, search?: string) {
    return listClientSessions(database.require(), clientId, { search });
  }

  /**
   * The person changes a conversation: its title (empty brings back the default, the first thing
   * they said) or who they are in it (null: their usual persona).
   */
  async function updateSession(input: { clientId: string; sessionId: string; title?: string; persona?: Persona | null }) {
    const change = merge(input.title !== undefined ? { title: input.title.trim() || null } : {}, input.persona !== undefined ? { persona: input.persona } : {});
    if (!(await updateSessionRow(database.require(), input.sessionId, input.clientId, change))) throw notFound("Session");
  }

  /**
   * The conversation's thread as a file: SillyTavern JSONL (its swipes beside each reply) or
   * Markdown. The whole thread, read in steps; what the person wrote is exported as written.
   */
  async function exportSession(input: { clientId: string; sessionId: string; format: "jsonl" | "markdown" }) {
    const db = database.require();
    const owned = await getOwnedSession(db, input.sessionId, input.clientId);
    if (!owned) throw notFound("Session");
    const path = owned.session.leafId ? await activePath(db, input.sessionId, owned.session.leafId) : [];
    const versions = await childrenOf(db, input.sessionId, path.filter((m) => m.role === "assistant").map((m) => m.parentId));
    const thread: ThreadEntry[] = path.map((m) => {
      const group = m.role === "assistant" ? versions.get(m.parentId) : undefined;
      const chosen = group?.findIndex((v) => v.id === m.id) ?? -1;
      return {
        role: m.role,
        content: m.content,
        createdAt: m.createdAt,
        ...(group && group.length > 1 && chosen >= 0 ? { versions: { contents: group.map((v) => v.content), chosen } } : {}),
      };
    });
    const names = macroNames(owned.session.persona ?? (await getPersona(db, input.clientId)) ?? null, owned.scenario.characterName);
    const title = owned.session.title ?? `${owned.scenario.characterName} · ${owned.scenario.title}`;
    const stamp = owned.session.createdAt.toISOString().slice(0, 10);
    return input.format === "jsonl"
      ? { body: toSillyTavernJsonl(thread, names, owned.session.createdAt), filename: `${owned.scenario.characterName} - ${stamp}.jsonl`, type: "application/jsonl" }
      : { body: toMarkdown(thread, names, title), filename: `${owned.scenario.characterName} - ${stamp}.md`, type: "text/markdown" };
  }

  /** A SillyTavern chat brought into a scenario as a new conversation: its thread and the swipes of each reply. */
  async function importSession(input: { clientId: string; scenario: string; jsonl: string; title?: string }) {
    const thread = parseSillyTavernJsonl(input.jsonl);
    const db = database.require();
    const scenario = await getPublicScenario(db, input.scenario, input.clientId);
    if (!scenario) throw notFound(`Scenario "${input.scenario}"`);
    const session = await importThread(db, { clientId: input.clientId, scenarioId: scenario.id, title: input.title?.trim() || null, thread });
    return getSessionView(input.clientId, session.id);
  }

  /** The person's usual persona (null until they set one). */
  async function persona(clientId: string): Promise<Persona | null> {
    return (await getPersona(database.require(), clientId)) ?? null;
  }

  async function setPersona(clientId: string, value: Persona): Promise<void> {
    await savePersona(database.require(), clientId, value);
  }

  /**
   * Deletes a conversation from the person's list (softly: Undo restores it; it is purged with
   * deleted messages). A reply being written in it is refused like any change (409).
   */
  async function deleteSession(input: { clientId: string; sessionId: string; deleted: boolean }) {
    const db = database.require();
    if (input.deleted) {
      const { owned } = await claim(input.clientId, input.sessionId);
      try {
        await markSessionDeleted(db, input.sessionId, input.clientId, true);
      } finally {
        await releaseReply(db, input.sessionId, deps.instanceId);
      }
      paths.delete(owned.sessionId);
    } else if (!(await markSessionDeleted(db, input.sessionId, input.clientId, false))) {
      throw notFound("Deleted conversation");
    }
  }

  /** A conversation as it opens: the newest page of its thread. */
  async function getSessionView(clientId: string, sessionId: string): Promise<SessionView> {
    const db = database.require();
    const owned = await getOwnedSession(db, sessionId, clientId);
    if (!owned) throw notFound("Session");
    const page = owned.session.leafId ? await pageOf(db, owned.session, owned.session.leafId, PAGE_SIZE) : { messages: [], olderCursor: null };
    // A thread longer than a page: its next reply's history is read now, while the person reads and types.
    // Not while a reply holds the session (here or on another instance): its row's text is still being
    // written, and the cache keeps rows as they were read.
    if (owned.session.leafId && page.olderCursor && owned.session.replyingUntil === null) readAhead(db, sessionId, owned.session.leafId, owned.routing);
    const own = owned.session.persona;
    return {
      id: owned.session.id,
      scenario: owned.scenario,
      createdAt: owned.session.createdAt,
      updatedAt: owned.session.updatedAt,
      title: owned.session.title,
      persona: own ?? (await getPersona(db, clientId)) ?? null,
      ownPersona: own !== null,
      ownCharacter: owned.ownCharacter,
      ...page,
    };
  }

  /** The page of the thread above `before` (a message of the thread): as the person scrolls up. */
  async function olderMessages(input: { clientId: string; sessionId: string; before: string; limit: number }): Promise<MessagePageView> {
    const db = database.require();
    const owned = await getOwnedSession(db, input.sessionId, input.clientId);
    if (!owned) throw notFound("Session");
    const before = await getMessage(db, input.sessionId, input.before);
    if (!before) throw notFound("Message");
    if (!before.parentId) return { messages: [], olderCursor: null };
    return pageOf(db, owned.session, before.parentId, input.limit);
  }

  /** Up to `limit` messages of the thread ending at `fromId`, as the browser sees them. */
  async function pageOf(db: Database, session: SessionRow, fromId: string, limit: number): Promise<MessagePageView> {
    const rows = await activePath(db, session.id, fromId, { maxCount: limit });
    const siblings = await siblingsOf(db, session.id, rows);
    // A row still marked streaming while nobody holds the session was cut off by a crash.
    const claimLive = session.replyingUntil !== null && session.replyingUntil.getTime() > Date.now();
    const oldest = rows[0];
    return {
      messages: rows.map((m) => {
        const view = toMessageView(!claimLive && m.finishReason === "streaming" ? merge(m, { finishReason: "interrupted" }) : m);
        const group = siblings.get(m.id);
        return group ? merge(view, { siblings: group }) : view;
      }),
      olderCursor: oldest?.parentId ? oldest.id : null,
    };
  }

  /**
   * Switches the conversation to another version of a message (a swipe): the active path then
   * runs through it, down to the leaf the person was at when they last left it (or, never left,
   * the newest message below it). The version being left remembers its own leaf the same way. One
   * change at a time: refused while a reply is being written (the same claim as a reply).
   */
  function selectMessage(input: { clientId: string; sessionId: string; messageId: string }): Promise<SessionView> {
    return treeChange(input, async (db, leafId) => {
      const target = await getMessage(db, input.sessionId, input.messageId);
      if (!target) throw notFound("Message");
      if (leafId) {
        const leaving = await versionOnPath(db, input.sessionId, leafId, target.parentId);
        if (leaving && leaving.id !== target.id) await setLastLeaf(db, leaving.id, leafId);
      }
      await setLeaf(db, input.sessionId, await returnPoint(db, input.sessionId, target));
    });
  }

  /**
   * The thread is about to leave `message` for a new version of it (a swipe, an edit): it remembers
   * the leaf the person was at below it, for when they switch back.
   */
  async function leaveVersion(db: Database, leafId: string | null, message: MessageRow): Promise<void> {
    if (leafId && leafId !== message.id && (await isOnPath(db, message.sessionId, leafId, message.id))) await setLastLeaf(db, message.id, leafId);
  }

  /** The child of `parentId` (a root when null) that the thread ending at `leafId` runs through. */
  async function versionOnPath(db: Database, sessionId: string, leafId: string, parentId: string | null): Promise<MessageRow | undefined> {
    const walked = await activePath(db, sessionId, leafId, parentId ? { stopAt: parentId } : {});
    if (!parentId) return walked[0];
    return walked[0]?.id === parentId ? walked[1] : undefined;
  }

  /** Where switching to a version leads: the leaf last left below it while still there, else the newest message below it. */
  async function returnPoint(db: Database, sessionId: string, target: MessageRow): Promise<string> {
    if (target.lastLeafId) {
      const back = await activePath(db, sessionId, target.lastLeafId, { stopAt: target.id });
      if (back[0]?.id === target.id && back.every((m) => m.deletedAt === null)) return target.lastLeafId;
    }
    return (await newestBelow(db, sessionId, target.id)) ?? target.id;
  }

  /** Claims the session for one reply (or says why not) and starts its writer. */
  async function claim(clientId: string, sessionId: string) {
    const db = database.require();
    const owned = replying.has(sessionId) ? undefined : await claimSessionForReply(db, sessionId, clientId, deps.instanceId, claimMs);
    return { db, owned: owned ?? (await refusedClaim(db, clientId, sessionId)) };
  }

  /** `claim`, with the person's new message written by the same statement. */
  async function claimAndAdd(clientId: string, sessionId: string, content: string) {
    const db = database.require();
    const won = replying.has(sessionId) ? undefined : await claimAndAddMessage(db, { sessionId, clientId, instanceId: deps.instanceId, holdMs: claimMs, content });
    if (!won) return { db, owned: await refusedClaim(db, clientId, sessionId) };
    return { db, owned: won.owned, message: won.message };
  }

  /** Why a claim was not won: not the client's session (404), or a reply under way (409). */
  async function refusedClaim(db: Database, clientId: string, sessionId: string): Promise<never> {
    if (!(await getOwnedSessionForReply(db, sessionId, clientId))) throw notFound("Session");
    throw new AppError(409, "reply_in_progress", "The character is still replying; wait for it or press Stop");
  }

  function writerFor(sessionId: string): ReplyWriter {
    const writer = new ReplyWriter(
      { database, log, instanceId: deps.instanceId, saveIntervalMs: deps.replySaveIntervalMs, claimMs, retryForMs: deps.replyRetryMs },
      sessionId,
      () => released(sessionId),
    );
    replying.set(sessionId, writer);
    writer.start();
    return writer;
  }

  /** Runs what follows a claim; if it throws, the session is released before the error goes on. */
  async function claimed<T>(writer: ReplyWriter, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      await writer.abandon();
      throw err;
    }
  }

  /** A message's text as stored: trimmed, not empty, within the limit. */
  function cleanContent(text: string): string {
    const content = text.trim();
    if (!content) throw badRequest("empty_message", "The message is empty");
    if (content.length > deps.maxMessageChars) {
      throw badRequest("message_too_long", `The message is longer than ${deps.maxMessageChars} characters`);
    }
    return content;
  }

  /** Runs one tree change under the session's claim (refused with 409 while a reply streams), then shows the thread. */
  async function treeChange(
    input: { clientId: string; sessionId: string },
    change: (db: Database, leafId: string | null) => Promise<void>,
  ): Promise<SessionView> {
    const { db, owned } = await claim(input.clientId, input.sessionId);
    try {
      await change(db, owned.leafId);
    } finally {
      await releaseReply(db, input.sessionId, deps.instanceId);
    }
    return getSessionView(input.clientId, input.sessionId);
  }

  /**
   * A character's line rewritten by the person: a new version beside it, marked edited, and the
   * thread follows it. The original stays a version. (A person's own message is edited with
   * `editAndReply`, since it wants an answer.)
   */
  function editReply(input: { clientId: string; sessionId: string; message: MessageRow; content: string }) {
    return treeChange(input, async (db, leafId) => {
      const m = input.message;
      await leaveVersion(db, leafId, m);
      await insertMessage(db, {
        sessionId: input.sessionId,
        parentId: m.parentId,
        role: "assistant",
        content: cleanContent(input.content),
        finishReason: m.finishReason === "opening" ? "opening" : "stop",
        editedAt: new Date(),
      });
    });
  }

  /**
   * Deletes a message and what hangs below it on that branch (softly: restorable until purged).
   * The thread moves to the newest other version of it, or ends at what it answered.
   */
  function deleteMessage(input: { clientId: string; sessionId: string; messageId: string }) {
    return treeChange(input, async (db, leafId) => {
      const target = await getMessage(db, input.sessionId, input.messageId);
      if (!target) throw notFound("Message");
      const sibling = await newestSibling(db, target);
      if (!target.parentId && !sibling) throw badRequest("cannot_delete_opening", "The conversation's opening message cannot be deleted");
      const onPath = leafId ? await isOnPath(db, input.sessionId, leafId, target.id) : false;
      await markDeleted(db, input.sessionId, target.id, true);
      if (onPath) await setLeaf(db, input.sessionId, sibling ? ((await newestBelow(db, input.sessionId, sibling)) ?? sibling) : target.parentId!);
    });
  }

  /** Undoes a delete: the message and its branch come back, and the thread follows them. */
  function restoreMessage(input: { clientId: string; sessionId: string; messageId: string }) {
    return treeChange(input, async (db) => {
      const target = await getMessage(db, input.sessionId, input.messageId, { deleted: true });
      if (!target) throw notFound("Deleted message");
      await markDeleted(db, input.sessionId, target.id, false);
      await setLeaf(db, input.sessionId, (await newestBelow(db, input.sessionId, target.id)) ?? target.id);
    });
  }

  /** "Continue in a new conversation from here": the thread up to `messageId` copied into a new session. */
  async function forkAt(input: { clientId: string; sessionId: string; messageId: string }): Promise<SessionView> {
    const db = database.require();
    const owned = await getOwnedSession(db, input.sessionId, input.clientId);
    const target = owned ? await getMessage(db, input.sessionId, input.messageId) : undefined;
    if (!owned || !target) throw notFound("Message");
    const path = await activePath(db, input.sessionId, target.id);
    const session = await forkSession(db, { clientId: input.clientId, scenarioId: owned.session.scenarioId, path });
    return getSessionView(input.clientId, session.id);
  }

  /** Looks up a message for an edit: which kind of edit it is depends on whose it is. */
  async function messageFor(clientId: string, sessionId: string, messageId: string): Promise<MessageRow> {
    const db = database.require();
    const owned = await getOwnedSession(db, sessionId, clientId);
    const m = owned ? await getMessage(db, sessionId, messageId) : undefined;
    if (!m) throw notFound("Message");
    return m;
  }

  /**
   * The person rewrites one of their messages: the new text is a version beside the old one, and
   * the character answers it (the thread follows). Nothing is overwritten.
   */
  async function editAndReply(input: { clientId: string; sessionId: string; message: MessageRow; content: string; signal: Cancellation }) {
    return sendMessage(merge(input, { editing: input.message }));
  }

  /** Stores the user's message first, so nothing the person wrote is lost, then asks for a reply. */
  async function sendMessage(input: { clientId: string; sessionId: string; content: string; signal: Cancellation; editing?: MessageRow }) {
    const content = cleanContent(input.content);
    // A new message at the end of the thread is written with the claim, in one round trip; an
    // edit first records where the person was, so it claims, then writes.
    const added = input.editing ? undefined : await claimAndAdd(input.clientId, input.sessionId, content);
    const { db, owned } = added ?? (await claim(input.clientId, input.sessionId));
    const writer = writerFor(input.sessionId);
    return claimed(writer, async () => {
      let userMessage = added?.message;
      if (!userMessage) {
        if (input.editing) await leaveVersion(db, owned.leafId, input.editing);
        const parentId = input.editing ? input.editing.parentId : owned.leafId;
        userMessage = await insertMessage(db, { sessionId: input.sessionId, parentId, role: "user", content });
      }
      const reply = await startReply({
        db,
        clientId: input.clientId,
        ...owned, // the session's id, its scenario's prompt, task, model and character, the persona
        parentId: userMessage.id,
        written: userMessage,
        writer,
        signal: input.signal,
      });
      return { userMessage: toMessageView(userMessage), reply };
    });
  }

  /**
   * Another reply where there was one: a sibling of `messageId` (a swipe on any reply), or, without
   * it, of the last message of the thread (when that is the person's, its missing answer). The
   * reply it stands beside is kept, reachable by switching back; the thread follows the new one.
   */
  async function regenerate(input: { clientId: string; sessionId: string; messageId?: string; signal: Cancellation }) {
    const { db, owned } = await claim(input.clientId, input.sessionId);
    const writer = writerFor(input.sessionId);
    return claimed(writer, async () => {
      const target = input.messageId
        ? await getMessage(db, input.sessionId, input.messageId)
        : owned.leafId
          ? await getMessage(db, input.sessionId, owned.leafId)
          : undefined;
      if (input.messageId && !target) throw notFound("Message");
      if (!target || target.finishReason === "opening") {
        throw badRequest("nothing_to_regenerate", "There is no reply to regenerate yet: send a message first");
      }
      const replaces = target.role === "assistant" ? target.id : undefined;
      if (replaces) await leaveVersion(db, owned.leafId, target);
      const parentId = target.role === "assistant" ? target.parentId : target.id;
      // The writer marks the old reply superseded (kept, a sibling) when the new one is first saved.
      if (replaces) writer.replacing(replaces);
      const reply = await startReply({
        db,
        clientId: input.clientId,
        ...owned, // the session's id, its scenario's prompt, task, model and character, the persona
        replaces,
        parentId,
        writer,
        signal: input.signal,
      });
      return { reply };
    });
  }

  /** The most history a reply in a conversation routed so could send: as much as the largest window among its models holds. */
  const historyChars = (routing: { task: string | null; modelKey: string | null }) =>
    Math.min(charsFor(gateway.largestContext(routing.task ?? "roleplay", routing.modelKey ?? undefined)), HISTORY_MAX_CHARS);

  /** History reads under way ahead of a reply, by session: a reply that starts meanwhile waits for it rather than reading twice. */
  const readingAhead = new Map<string, Promise<void>>();

  /**
   * Reads a long thread's history into the path cache, off the request that opened it, so the
   * first reply after opening a 10,000-message story starts as fast as the next ones (reading
   * ~2,000 messages takes tens of milliseconds on PGlite). A failure costs nothing: the reply reads it.
   */
  function readAhead(db: Database, sessionId: string, leafId: string, routing: { task: string | null; modelKey: string | null }): void {
    const maxChars = historyChars(routing);
    if (readingAhead.has(sessionId) || replying.has(sessionId) || paths.covers(sessionId, leafId, maxChars)) return;
    const before = paths.leafOf(sessionId);
    const reading = historyPath(db, sessionId, leafId, maxChars)
      .then((rows) => {
        // A reply that ended meanwhile cached a newer stretch: that one stays.
        if (paths.leafOf(sessionId) === before) paths.set(sessionId, rows, maxChars, rows[0]?.parentId === null);
        log.debug({ session: sessionId, messages: rows.length }, "thread read ahead");
      })
      .catch((err: unknown) => log.debug(merge(errorFields(err), { session: sessionId }), "reading a thread ahead failed; the reply reads it"))
      .finally(() => readingAhead.delete(sessionId));
    readingAhead.set(sessionId, reading);
  }

  async function readHistory(ctx: ReplyContext, fromId: string, maxChars: number): Promise<HistoryRow[]> {
    const rows = await historyPath(ctx.db, ctx.sessionId, fromId, maxChars);
    log.debug({ session: ctx.sessionId, messages: rows.length }, "history read from the database");
    return rows;
  }

  async function startReply(ctx: ReplyContext): Promise<Reply> {
    // The model sees the path down to the message it answers, not what hangs below it on other
    // branches; and only as much of it as the largest window among its models could hold.
    const task = ctx.task ?? "roleplay";
    const maxChars = historyChars(ctx);
    const cached = () => (ctx.parentId ? paths.get(ctx.sessionId, ctx.parentId, maxChars, ctx.written) : undefined);
    let history = cached();
    const ahead = readingAhead.get(ctx.sessionId);
    if (!history && ahead) {
      await ahead;
      history = cached();
    }
    history ??= ctx.parentId ? await readHistory(ctx, ctx.parentId, maxChars) : [];
    ctx.history = { rows: history, maxChars };
    ctx.writer.replyTo(ctx.parentId);
    const names = macroNames(ctx.persona, ctx.characterName);
    const plan = promptPlan(ctx, history, names);
    if (typeof plan !== "string") ctx.plan = plan;
    const fit = promptFitter(plan, history, names, ctx.sessionId);
    ctx.fit = fit;
    try {
      const open = await gateway.openStream({
        task,
        ...(ctx.modelKey ? { model: ctx.modelKey } : {}),
        // The gateway fits the history to each model it tries.
        fit,
        signal: ctx.signal,
        meta: { clientId: ctx.clientId, sessionId: ctx.sessionId },
      });
      ctx.writer.servedBy(open.candidate.provider.name, open.candidate.model.modelKey, fit.oldestSent());
      let begun = false;
      const settle = settleOnce(ctx, open);
      const events = relay(ctx, open, settle, () => (begun = true));
      return {
        started: true,
        provider: open.candidate.provider.name,
        model: open.candidate.model.modelKey,
        attempts: open.attempts,
        events,
        finish: async () => {
          // A generator that never started skips its finally on return(): then it is settled here.
          if (begun) await events.return(undefined);
          else {
            await open.batches.return(undefined);
            await events.return(undefined);
          }
          await settle();
        },
      };
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err; // the caller releases the session
      await ctx.writer.abandon();
      return { started: false, code: err.code, message: err.message, attempts: err.attempts };
    }
  }

  /** A card's prompt, with its lorebook; a scenario's system prompt and the persona otherwise. */
  function promptPlan(ctx: ReplyContext, history: HistoryRow[], names: MacroNames): string | CharacterPlan {
    if (!ctx.card) return systemMessage(ctx.systemPrompt, ctx.persona, names);
    return characterPlan({
      card: ctx.card.data,
      defaultSystemPrompt: ctx.systemPrompt.trim() || DEFAULT_CHARACTER_PROMPT,
      persona: ctx.persona,
      names,
      lorebooks: ctx.lorebooks.map(lorebookFromCard),
      recent: history.slice(-LORE_SCAN_MESSAGES),
      estimateTokens: (text) => Math.ceil(text.length / 3.5),
    });
  }

  /**
   * "What the model saw" for one reply: to the person when the character is their own (a gallery
   * character's prompt is as private as its system prompt), to an admin (`viewer` "admin") for any.
   */
  async function promptReport(viewer: { clientId: string } | "admin", sessionId: string, messageId: string): Promise<PromptReportView> {
    const db = database.require();
    const row = await getReplyPrompt(db, sessionId, messageId, viewer === "admin" ? undefined : viewer.clientId);
    if (!row) throw notFound("Message");
    if (viewer !== "admin" && row.ownerClientId !== viewer.clientId) {
      throw new AppError(403, "prompt_private", "What the model saw is shown for your own characters only: this character's prompt is private");
    }
    if (!row.report) throw new AppError(404, "no_prompt_report", "Nothing was kept of this message's prompt: it is not a reply, or it was written before Parley kept prompts");
    const { report } = row;
    const ids = report.parts.flatMap((p) => (p.kind === "history" ? [p.messageId] : []));
    const texts = await messageTexts(db, sessionId, ids);
    const parts: PromptPartView[] = [];
    for (const p of report.parts) {
      if (p.kind === "history") parts.push(merge(p, { content: resolveMacros(texts.get(p.messageId) ?? "", report.names) }));
      else if (p.kind !== "history_run") parts.push(p);
      else {
        // Bounded: a run's ends are on one thread, but a walk must never run away should `fromId` be gone.
        const walked = await activePath(db, sessionId, p.toId, { stopAt: p.fromId, maxCount: p.count * 2 + 50 });
        const from = walked.findIndex((m) => m.id === p.fromId);
        for (const m of walked.slice(Math.max(0, from))) {
          if (hasText(m.content)) parts.push({ kind: "history", role: m.role, messageId: m.id, content: resolveMacros(m.content, report.names) });
        }
      }
    }
    return merge(report, { parts });
  }

  /** "What the model saw" for a stored reply; a failure to keep it costs the reply nothing. */
  async function keepPromptReport(ctx: ReplyContext, open: OpenStream, messageId: string) {
    const sent = ctx.fit?.sent();
    if (!sent) return;
    const lore = ctx.plan?.loreFor(sent.window);
    const report: PromptReport = {
      model: open.candidate.model.modelKey,
      provider: open.candidate.provider.name,
      contextLength: sent.window.contextLength,
      maxTokens: sent.window.maxTokens ?? null,
      tokenizer: sent.window.tokenizer,
      parts: compactHistory(sent.parts),
      trimmed: { historyLeftOut: sent.historyLeftOut, examplesDropped: sent.examplesDropped, lore: lore?.dropped ?? [] },
      lore: lore?.fired ?? [],
      names: macroNames(ctx.persona, ctx.characterName),
    };
    await saveReplyPrompt(ctx.db, messageId, report).catch((err: unknown) =>
      log.warn(merge(errorFields(err), { session: ctx.sessionId }), "keeping what the model saw failed"),
    );
  }

  /** Stores the reply when the stream ends, however it ends, and releases the session. Runs once. */
  function settleOnce(ctx: ReplyContext, open: OpenStream) {
    let settled: Promise<{ record: RequestRecord } & Settled> | undefined;
    return () =>
      (settled ??= (async () => {
        // Closing the gateway's stream (the client went away) has already made it record the request as aborted.
        const record = await open.record;
        const result = await ctx.writer.finish(record);
        // Counted once per tokenizer: kept with the messages so the next reply need not count them again.
        const counts = ctx.fit?.fresh() ?? [];
        if (counts.length) {
          saveTokenCounts(ctx.db, counts).catch((err: unknown) => log.warn(merge(errorFields(err), { session: ctx.sessionId }), "storing token counts failed; they will be counted again"));
        }
        if (result.stored && result.stored.finishReason !== "streaming") await keepPromptReport(ctx, open, result.stored.id);
        // The thread now ends at the stored reply: the next message starts from it.
        if (result.stored && ctx.history && result.stored.finishReason !== "streaming") {
          const rows = [...ctx.history.rows, result.stored];
          paths.set(ctx.sessionId, rows, ctx.history.maxChars, rows[0]?.parentId === null);
        }
        log.debug({ session: ctx.sessionId, finish: record.finishReason, chars: record.text.length, pending: result.pending }, "reply settled");
        return { record, ...result };
      })());
  }

  return {
    startSession,
    listSessions,
    updateSession,
    exportSession,
    importSession,
    persona,
    setPersona,
    deleteSession,
    getSessionView,
    olderMessages,
    selectMessage,
    messageFor,
    editReply,
    editAndReply,
    deleteMessage,
    restoreMessage,
    forkAt,
    promptReport,
    sendMessage,
    regenerate,
    idle,
  };
}

export type ChatService = ReturnType<typeof createChatService>;

/**
 * Passes the gateway's text on, then says how the reply ended: finished, failed midway (what
 * arrived is kept), abandoned by the client (`aborted`), or not saved. The gateway keeps the
 * account (tokens, cost, timings); the writer stores its record with the text.
 */
async function* relay(
  ctx: ReplyContext,
  open: OpenStream,
  settle: () => Promise<{ record: RequestRecord } & Settled>,
  onBegin: () => void,
): AsyncGenerator<ReplyEvent> {
  onBegin();
  try {
    for await (const batch of open.batches) {
      for (const ev of batch) {
        if (ev.type === "delta") {
          ctx.writer.append(ev.text);
          yield ev;
        }
      }
    }
  } finally {
    // Reached early when the consumer stopped: the loop above has closed the gateway's stream.
    await settle();
  }
  const { record, stored, pending } = await settle();
  const message = stored ? toMessageView(stored) : undefined;
  if (pending) {
    yield {
      type: "error",
      code: "not_saved",
      message:
        pending === "database"
          ? "The reply could not be saved yet: the database is unavailable. It is kept and saved as soon as the database is back"
          : "The reply could not be saved because of a server error",
    };
  } else if (record.status === "error") {
    yield { type: "error", code: "upstream_error", message: record.error ?? "The model failed mid-reply", partial: message };
  } else if (record.status !== "aborted") {
    yield message ? { type: "done", message } : { type: "error", code: "empty_reply", message: "The model sent no text; try again" };
  }
}
