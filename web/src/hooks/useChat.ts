import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, type Message, type Persona, type ScenarioPage, type Session, type StreamEvent } from "../api/client";
import { forgetSession, recallSession, rememberSession } from "../api/session-memory";

export type ChatError = { code: string; message: string; retryAfterS?: number };
export type Streaming = { text: string; provider?: string; model?: string };

const isAbort = (err: unknown) => (err as Error)?.name === "AbortError";
const localId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

/** Retries a request the server refused only because the previous reply is still being saved. */
async function whenFree<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "reply_in_progress") || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
    }
  }
}

/**
 * One scenario's conversation: resumes the remembered session, creates one on the first
 * message, streams replies, and keeps whatever arrived when a reply is stopped or fails.
 */
export function useChat(slug: string) {
  const [scenario, setScenario] = useState<ScenarioPage | null>(null);
  /** Which greeting the conversation opens with, chosen before the first message (0: the opening message). */
  const [greeting, setGreeting] = useState(0);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  /** The oldest message shown when more of the thread lies above it: the next older page is read from there. */
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  /** The list index of the first message shown: it goes down as older pages arrive, so the view stays where it was. */
  const [firstItemIndex, setFirstItemIndex] = useState(FIRST_INDEX);
  const loadingOlder = useRef(false);
  /** Who the person is here ({{user}}), and whether the conversation has a persona of its own. */
  const [persona, setPersona] = useState<Persona | null>(null);
  const [ownPersona, setOwnPersona] = useState(false);
  /** The character is the person's own: they may see what the model saw for its replies. */
  const [ownCharacter, setOwnCharacter] = useState(false);
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [error, setError] = useState<ChatError | null>(null);
  const [loading, setLoading] = useState(true);
  const controller = useRef<AbortController | null>(null);
  /** A message on its way whose reply has no controller yet (its session being created, say). */
  const sending = useRef(false);

  /** Shows a page of the thread ending at its leaf; what was loaded above it stays when it still leads there. */
  const showPage = useCallback((page: { messages: Message[]; olderCursor: string | null } & Partial<Pick<Session, "persona" | "ownPersona" | "ownCharacter">>) => {
    if (page.persona !== undefined) setPersona(page.persona);
    if (page.ownCharacter !== undefined) setOwnCharacter(page.ownCharacter);
    if (page.ownPersona !== undefined) setOwnPersona(page.ownPersona);
    setMessages((prev) => {
      const merged = mergePage(prev, page);
      setOlderCursor(merged.olderCursor);
      return merged.messages;
    });
  }, []);

  /** Reads the page above the oldest message shown (as the person scrolls up). */
  const loadOlder = useCallback(async () => {
    if (!sessionId || !olderCursor || loadingOlder.current) return;
    loadingOlder.current = true;
    try {
      const page = await api.olderMessages(sessionId, olderCursor);
      setMessages((prev) => (prev[0]?.id === olderCursor ? [...page.messages, ...prev] : prev));
      setFirstItemIndex((i) => i - page.messages.length);
      setOlderCursor(page.olderCursor);
    } catch (err) {
      setError(toChatError(err));
    } finally {
      loadingOlder.current = false;
    }
  }, [sessionId, olderCursor]);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    setError(null);
    (async () => {
      try {
        const { scenario } = await api.scenario(slug);
        if (cancelled) return;
        setScenario(scenario);
        const remembered = recallSession(slug);
        if (remembered) {
          try {
            const { session } = await api.session(remembered);
            if (cancelled) return;
            setSessionId(session.id);
            showPage(session);
            return;
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 404)) throw err;
            forgetSession(slug);
          }
        }
        setSessionId(null);
        setGreeting(0);
        setMessages([openingOf(scenario, 0)]);
        setOlderCursor(null);
        setOwnPersona(false);
        const { persona } = await api.persona();
        if (!cancelled) setPersona(persona);
      } catch (err) {
        if (!cancelled) setError(toChatError(err));
      } finally {
        if (!cancelled) setLoading(false);
      }
    })();
    return () => {
      cancelled = true;
      controller.current?.abort();
    };
  }, [slug]);

  /** Runs one streamed reply; `onStart` sees the stored user message, if any. */
  const runReply = useCallback(
    async (
      call: (id: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal) => Promise<void>,
      id: string,
      hooks: { onStart?: (m: Message | null) => void; onNothing?: () => void },
    ) => {
      const ctl = new AbortController();
      controller.current = ctl;
      let text = "";
      let finished = false;
      setStreaming({ text: "" });
      setError(null);
      try {
        await call(
          id,
          (e) => {
            if (e.type === "start") {
              hooks.onStart?.(e.data.userMessage);
              setStreaming({ text, provider: e.data.provider, model: e.data.model });
            } else if (e.type === "delta") {
              text += e.text;
              setStreaming((s) => ({ ...s, text }));
            } else if (e.type === "done") {
              finished = true;
              // In the same render as the stored reply appears, or it shows twice for a moment.
              setStreaming(null);
              setMessages((m) => [...m, e.message]);
            } else if (e.type === "error") {
              finished = true;
              setStreaming(null);
              if (e.partial) {
                const partial = e.partial;
                setMessages((m) => [...m, partial]);
              } else if (text) {
                // Shown but not saved (the database failed): kept on screen, marked as an error.
                setMessages((m) => [...m, localReply(text, "error")]);
              } else hooks.onNothing?.();
              setError({ code: e.code, message: e.message });
            }
          },
          ctl.signal,
        );
        if (!finished) {
          // The stream closed without a verdict: keep what arrived, as the server does.
          if (text) setMessages((m) => [...m, localReply(text, "error")]);
          else hooks.onNothing?.();
          setError({ code: "stream_cut", message: "The connection closed before the reply finished." });
        }
      } catch (err) {
        if (isAbort(err)) {
          if (text) setMessages((m) => [...m, localReply(text, "aborted")]);
          else hooks.onNothing?.();
        } else {
          if (text) setMessages((m) => [...m, localReply(text, "error")]);
          else hooks.onNothing?.();
          setError(toChatError(err));
        }
      } finally {
        if (controller.current === ctl) controller.current = null;
        setStreaming(null);
        rememberSession(slug, id);
      }
    },
    [slug],
  );

  /** Sends a message. Resolves false when the server did not store it, so the draft is kept. */
  const send = useCallback(
    async (content: string): Promise<boolean> => {
      // A second Enter while the first message is still creating the session must not make another.
      if (!scenario || controller.current || sending.current) return false;
      sending.current = true;
      try {
        let id = sessionId;
        try {
          if (!id) {
            const { session } = await api.createSession(scenario.slug);
            id = session.id;
            setSessionId(id);
            setOlderCursor(session.olderCursor);
            setOwnCharacter(session.ownCharacter);
            rememberSession(slug, id);
            // The greeting chosen before writing is where the thread starts.
            const chosen = greeting > 0 ? session.messages[0]?.siblings?.[greeting] : undefined;
            setMessages(chosen ? (await api.select(id, chosen)).session.messages : session.messages);
          }
        } catch (err) {
          setError(toChatError(err));
          return false;
        }
        const pending: Message = { ...localReply(content, null), role: "user", id: localId("pending") };
        setMessages((m) => [...m, pending]);
        let stored = false;
        const sessionForCall = id;
        try {
          await whenFree(() =>
            runReply(
              (sid, onEvent, signal) => api.sendMessage(sid, content, onEvent, signal),
              sessionForCall,
              {
                onStart: (m) => {
                  stored = true;
                  if (m) setMessages((all) => all.map((x) => (x.id === pending.id ? m : x)));
                },
              },
            ),
          );
        } catch (err) {
          setError(toChatError(err));
        }
        if (!stored) setMessages((all) => all.filter((x) => x.id !== pending.id));
        return stored;
      } finally {
        sending.current = false;
      }
    },
    [scenario, sessionId, slug, runReply, greeting],
  );

  /** Reads the thread again: the versions of each message are known only to the server. */
  const refresh = useCallback(
    async (id: string) => {
      const { session } = await api.session(id);
      showPage(session);
    },
    [showPage],
  );

  /** A fresh reply to the last message; the one it replaces stays a version of it (or comes back if nothing new arrives). */
  const regenerate = useCallback(async () => {
    if (!sessionId || controller.current) return;
    const last = messages.at(-1);
    const replaced = last && last.role === "assistant" && last.finishReason !== "opening" ? last : undefined;
    if (replaced) setMessages((m) => m.filter((x) => x.id !== replaced.id));
    let answered = false;
    try {
      await whenFree(() =>
        runReply(api.regenerate, sessionId, {
          onStart: () => (answered = true),
          onNothing: () => replaced && setMessages((m) => [...m, replaced]),
        }),
      );
    } catch (err) {
      if (replaced) setMessages((m) => (m.some((x) => x.id === replaced.id) ? m : [...m, replaced]));
      setError(toChatError(err));
    }
    // The new reply and the one it stands beside are now versions of each other: show `‹ 2/2 ›`.
    if (answered && replaced) await refresh(sessionId).catch(() => {});
  }, [sessionId, messages, runReply, refresh]);

  /**
   * Another reply beside `messageId` (a swipe on any reply): the thread is cut back to what it
   * answers while the new one streams; afterwards both are versions, `‹ 2/2 ›`.
   */
  const swipe = useCallback(
    async (messageId: string) => {
      if (!sessionId || controller.current) return;
      const at = messages.findIndex((m) => m.id === messageId);
      if (at < 0) return;
      const before = messages;
      setMessages(messages.slice(0, at));
      try {
        await whenFree(() => runReply((sid, onEvent, signal) => api.regenerateAt(sid, messageId, onEvent, signal), sessionId, {}));
      } catch (err) {
        setError(toChatError(err));
      }
      await refresh(sessionId).catch(() => setMessages(before));
    },
    [sessionId, messages, runReply, refresh],
  );

  /**
   * One change to the thread that the server answers with the session as it now reads (a switch,
   * an edit of a character's line, a delete, an undo, a fork): shown as it comes; false when refused.
   */
  const changeThread = useCallback(
    async (call: (sessionId: string) => Promise<{ session: Session }>): Promise<boolean> => {
      if (!sessionId || controller.current) return false;
      try {
        const { session } = await call(sessionId);
        if (session.id !== sessionId) {
          setSessionId(session.id);
          rememberSession(slug, session.id);
          setMessages([]);
        }
        showPage(session);
        return true;
      } catch (err) {
        setError(toChatError(err));
        return false;
      }
    },
    [sessionId, slug, showPage],
  );

  /** Shows another version of a message, and the branch that was below it. */
  const selectVersion = useCallback(
    (messageId: string) => {
      // Before the first message there is no conversation yet: the greeting is chosen here, and kept when it starts.
      if (!sessionId && scenario && messageId.startsWith(OPENING)) {
        const k = Number(messageId.slice(messageId.lastIndexOf(":") + 1));
        setGreeting(k);
        setMessages([openingOf(scenario, k)]);
        return Promise.resolve(true);
      }
      return changeThread((id) => api.select(id, messageId));
    },
    [changeThread, sessionId, scenario],
  );

  /**
   * An edit. The person's own message: the thread is cut back to what it followed, the new text
   * goes in, and the character answers it. A character's line: a new version, marked edited.
   * Resolves false when nothing changed (the draft of the edit should stay open).
   */
  const editMessage = useCallback(
    async (messageId: string, content: string): Promise<boolean> => {
      if (!sessionId || controller.current) return false;
      const at = messages.findIndex((m) => m.id === messageId);
      const target = messages[at];
      if (!target) return false;
      if (target.role === "assistant") return changeThread((id) => api.editReply(id, messageId, content));
      const before = messages;
      const pending: Message = { ...localReply(content, null), role: "user", id: localId("pending") };
      setMessages([...messages.slice(0, at), pending]);
      let stored = false;
      try {
        await whenFree(() =>
          runReply((sid, onEvent, signal) => api.editAndReply(sid, messageId, content, onEvent, signal), sessionId, {
            onStart: () => (stored = true),
          }),
        );
      } catch (err) {
        setError(toChatError(err));
      }
      await refresh(sessionId).catch(() => setMessages(before));
      return stored;
    },
    [sessionId, messages, runReply, refresh, changeThread],
  );

  /** The message deleted last, for Undo. */
  const [deleted, setDeleted] = useState<string | null>(null);

  const deleteMessage = useCallback(
    async (messageId: string) => {
      if (await changeThread((id) => api.deleteMessage(id, messageId))) setDeleted(messageId);
    },
    [changeThread],
  );

  const undoDelete = useCallback(async () => {
    if (deleted && (await changeThread((id) => api.restoreMessage(id, deleted)))) setDeleted(null);
  }, [deleted, changeThread]);

  /** Continues in a new conversation from a message: the new one becomes this scenario's current conversation. */
  const forkAt = useCallback((messageId: string) => changeThread((id) => api.fork(id, messageId)), [changeThread]);

  /** Saves who the person is: for every conversation, or for this one only (null: back to the usual persona here). */
  const savePersona = useCallback(
    async (value: Persona | null, scope: "default" | "conversation"): Promise<string | null> => {
      try {
        if (scope === "conversation" && sessionId) {
          await api.setSessionPersona(sessionId, value);
          const { session } = await api.session(sessionId);
          setPersona(session.persona);
          setOwnPersona(session.ownPersona);
        } else if (value) {
          await api.setPersona(value);
          if (!ownPersona) setPersona(value);
        }
        return null;
      } catch (err) {
        return toChatError(err).message;
      }
    },
    [sessionId, ownPersona],
  );

  const stop = useCallback(() => controller.current?.abort(), []);

  const startOver = useCallback(() => {
    if (!scenario) return;
    controller.current?.abort();
    forgetSession(slug);
    setSessionId(null);
    setGreeting(0);
    setMessages([openingOf(scenario, 0)]);
    setOlderCursor(null);
    setError(null);
  }, [scenario, slug]);

  return {
    scenario,
    sessionId,
    messages,
    olderCursor,
    firstItemIndex,
    persona,
    ownPersona,
    ownCharacter,
    savePersona,
    loadOlder,
    streaming,
    error,
    loading,
    send,
    stop,
    swipe,
    selectVersion,
    editMessage,
    forkAt,
    deleteMessage,
    deleted,
    undoDelete,
    dismissDeleted: () => setDeleted(null),
    regenerate,
    startOver,
    dismissError: () => setError(null),
  };
}

/** Where the list's indexes start: far from zero, so older pages can be put before the first message. */
const FIRST_INDEX = 1_000_000;

/**
 * A page of the thread ending at its leaf, after a change: the messages above the page that are
 * still its ancestors (those the person had scrolled to) stay, so the view keeps its place.
 */
export function mergePage(prev: Message[], page: { messages: Message[]; olderCursor: string | null }): { messages: Message[]; olderCursor: string | null } {
  const first = page.messages[0];
  if (!first || page.olderCursor === null) return { messages: page.messages, olderCursor: page.olderCursor };
  const at = prev.findIndex((m) => m.id === first.parentId);
  if (at < 0) return { messages: page.messages, olderCursor: page.olderCursor };
  const above = prev.slice(0, at + 1);
  return { messages: [...above, ...page.messages], olderCursor: above[0]?.parentId ? above[0].id : null };
}

const OPENING = "opening-";

/** The character's first line before the conversation exists; with alternate greetings, each is a version to choose. */
function openingOf(s: ScenarioPage, k: number): Message {
  const texts = [s.openingMessage, ...s.alternateGreetings];
  const ids = texts.map((_, i) => `${OPENING}${s.slug}:${i}`);
  return { ...localReply(texts[k] ?? s.openingMessage, "opening"), id: ids[k] ?? ids[0]!, ...(ids.length > 1 ? { siblings: ids } : {}) };
}

function localReply(content: string, finishReason: string | null): Message {
  return {
    id: localId("local"),
    parentId: null,
    role: "assistant",
    content,
    finishReason,
    provider: null,
    model: null,
    error: null,
    editedAt: null,
    contextFromId: null,
    createdAt: new Date().toISOString(),
  };
}

function toChatError(err: unknown): ChatError {
  if (err instanceof ApiError) return { code: err.code, message: err.message, retryAfterS: err.retryAfterS };
  return { code: "unexpected", message: (err as Error)?.message ?? "Something went wrong" };
}
