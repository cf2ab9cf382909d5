import { useEffect, useRef, useState } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";
import { DebriefCard } from "../practice/DebriefCard";
import { PracticePanel } from "../practice/PracticePanel";
import { usePractice } from "../practice/usePractice";
import { Link } from "wouter";
import { ADMIN_SEEN_KEY, api, ApiError, type Message } from "../api/client";
import { PromptInspector } from "../components/PromptInspector";
import { Avatar } from "../components/Avatar";
import { Composer } from "../components/Composer";
import { enterSends, touchOnly } from "../components/enter-key";
import { ErrorBanner } from "../components/ErrorBanner";
import { Markdown } from "../components/Markdown";
import { MoreMenu } from "../components/MoreMenu";
import { PersonaEditor } from "../components/PersonaEditor";
import { UndoNotice } from "../components/UndoNotice";
import { useChat } from "../hooks/useChat";
import { DEFAULT_PERSONA_NAME, resolveMacros, type MacroNames } from "../../../contracts/macros";
import { useCooldown } from "../hooks/useCooldown";
import { useFollowEnd } from "../hooks/useFollowEnd";

const FINISH_NOTE: Record<string, string> = {
  aborted: "Stopped",
  error: "Cut off: the reply did not finish",
  length: "Reached the reply length limit",
  interrupted: "Cut off: the server stopped while writing this reply",
  streaming: "Still being written…",
};

export function Chat({ slug }: { slug: string }) {
  const chat = useChat(slug);
  const [maxChars, setMaxChars] = useState(8000);
  const [editingPersona, setEditingPersona] = useState(false);
  /** The reply whose prompt is shown ("what the model saw"). */
  const [inspecting, setInspecting] = useState<string | null>(null);
  /** A logged-in admin sees what the model saw for any character; learnt only in a browser that has used the dashboard. */
  const [isAdmin, setIsAdmin] = useState(false);
  useEffect(() => {
    if (!localStorage.getItem(ADMIN_SEEN_KEY)) return;
    fetch("/api/admin/session", { credentials: "same-origin" }).then((r) => setIsAdmin(r.ok), () => {});
  }, []);
  /** The chat's page, whose end stays on screen as the thread grows (see useFollowEnd). */
  const [page, setPage] = useState<HTMLElement | null>(null);
  const view = useFollowEnd(page);
  const list = useRef<VirtuosoHandle>(null);
  /** A message a debrief's quote points to, shown highlighted for a moment. */
  const [highlight, setHighlight] = useState<string | null>(null);
  const { scenario, messages, streaming, error } = chat;
  const isPractice = (scenario?.objectives.length ?? 0) > 0;
  const practice = usePractice(slug, chat.sessionId, isPractice);
  const cooldown = useCooldown();
  const rateLimited = error?.code === "rate_limited";

  // The server said when it will take messages again: count down to it; the notice goes with it.
  useEffect(() => {
    if (error?.code === "rate_limited") cooldown.start(error.retryAfterS ?? 60);
  }, [error, cooldown.start]);

  useEffect(() => {
    api.config().then((c) => setMaxChars(c.maxMessageChars), () => {});
  }, []);
  useEffect(() => {
    if (scenario) document.title = `${scenario.characterName} · ${scenario.title} · Parley`;
  }, [scenario]);

  if (!scenario) {
    return (
      <main className="chat">
        <p className="back">
          <Link href="/">← All scenarios</Link>
        </p>
        {chat.loading ? <p className="muted">Loading…</p> : error && <ErrorBanner message={error.message} />}
      </main>
    );
  }

  const names: MacroNames = { user: chat.persona?.name ?? DEFAULT_PERSONA_NAME, char: scenario.characterName };
  const last = messages.at(-1);
  // The last prompt began at this message: older ones were left out to fit the model's window.
  const memoryFrom = messages.findLast((m) => m.contextFromId)?.contextFromId ?? null;
  const turns = messages.filter((m) => m.role === "user" && !m.id.startsWith("pending-")).length;
  const atTurnLimit = isPractice && scenario.turnLimit !== null && turns >= scenario.turnLimit;
  const jumpTo = (messageId: string) => {
    const index = messages.findIndex((m) => m.id === messageId);
    if (index < 0) return;
    view.stop();
    list.current?.scrollToIndex({ index, align: "center" });
    setHighlight(messageId);
    setTimeout(() => setHighlight((h) => (h === messageId ? null : h)), 2500);
  };
  const canRegenerate =
    !streaming && cooldown.secondsLeft === 0 && !!chat.sessionId && !!last && !(last.role === "assistant" && last.finishReason === "opening");

  return (
    <main className="chat" ref={setPage}>
      <header className="chat-header">
        <Link href="/" className="back-link" aria-label="All scenarios">
          ←
        </Link>
        <Avatar style={scenario.avatarStyle} seed={scenario.avatarSeed} size={44} alt="" />
        <div className="chat-title">
          <h1>{scenario.characterName}</h1>
          <p>{scenario.title}</p>
        </div>
        <Link href="/conversations" className="header-link">
          Conversations
        </Link>
        <button
          type="button"
          className="ghost persona-button"
          title={`You are ${names.user} here: change who you are`}
          aria-label={`Your persona: ${names.user}`}
          aria-expanded={editingPersona}
          onClick={() => setEditingPersona((v) => !v)}
        >
          {names.user}
        </button>
        <button type="button" className="ghost" onClick={chat.startOver} disabled={!chat.sessionId || scenario.withdrawn} aria-label="New conversation">
          New<span className="wide-only"> conversation</span>
        </button>
        {chat.sessionId && (
          <MoreMenu label="More">
            <a role="menuitem" href={api.exportUrl(chat.sessionId, "jsonl")} download>
              Export for SillyTavern (.jsonl)
            </a>
            <a role="menuitem" href={api.exportUrl(chat.sessionId, "markdown")} download>
              Export as Markdown (.md)
            </a>
          </MoreMenu>
        )}
      </header>

      {editingPersona && (
        <PersonaEditor
          initial={chat.persona}
          inConversation={!!chat.sessionId}
          ownPersona={chat.ownPersona}
          onSave={chat.savePersona}
          onClose={() => setEditingPersona(false)}
        />
      )}

      <p className="scene">{resolveMacros(scenario.description, names)}</p>
      {scenario.withdrawn && (
        <p className="notice" role="status" data-testid="withdrawn">
          {chat.ownCharacter
            ? `You removed ${scenario.characterName} from your characters: this conversation is still yours to read and go on with. Import the card again to start new ones.`
            : chat.sessionId
              ? `${scenario.title} is no longer offered: this conversation is still yours to read and go on with, but no new one can start.`
              : `${scenario.title} is no longer offered, so no new conversation can start. Your conversations with ${scenario.characterName} are under Conversations.`}
        </p>
      )}
      {isPractice && <PracticePanel scenario={scenario} turns={turns} progress={practice.progress} />}

      <div className="messages" role="log" aria-label="Conversation" aria-live="polite">
        {/* Only the messages near the screen are rendered: a 10,000-message story scrolls like a short one. */}
        <Virtuoso
          ref={list}
          key={chat.sessionId ?? "new"}
          useWindowScroll
          data={messages}
          firstItemIndex={chat.firstItemIndex}
          initialTopMostItemIndex={{ index: "LAST", align: "end" }}
          computeItemKey={(_, m) => m.id}
          increaseViewportBy={{ top: 800, bottom: 400 }}
          startReached={() => void chat.loadOlder()}
          components={{
            Header: () =>
              chat.olderCursor ? (
                <p className="older-note muted" data-testid="older-loading">
                  Loading earlier messages…
                </p>
              ) : null,
          }}
          itemContent={(_, m) => (
            <div className={`message-row${highlight === m.id ? " highlighted" : ""}`} id={`message-${m.id}`}>
              {m.id === memoryFrom && m.parentId !== null && (
                <p className="memory-line" data-testid="memory-line" role="note">
                  <span>{scenario.characterName} does not remember above this line</span>
                </p>
              )}
              <MessageBubble
                message={m}
                names={names}
                scenario={scenario}
                busy={!!streaming || !chat.sessionId}
                onSwipe={m.role === "assistant" && m.finishReason !== "opening" ? () => void chat.swipe(m.id) : undefined}
                onSelect={(id) => void chat.selectVersion(id)}
                onEdit={(text) => chat.editMessage(m.id, text)}
                onFork={() => void chat.forkAt(m.id)}
                onInspect={
                  (chat.ownCharacter || isAdmin) && m.role === "assistant" && m.finishReason !== "opening" && chat.sessionId ? () => setInspecting(m.id) : undefined
                }
                onDelete={m.finishReason !== "opening" || (m.siblings?.length ?? 0) > 1 ? () => void chat.deleteMessage(m.id) : undefined}
              />
            </div>
          )}
        />
        {streaming && (
          <div className="message assistant streaming" data-testid="streaming-reply" aria-busy="true">
            <Avatar style={scenario.avatarStyle} seed={scenario.avatarSeed} size={32} alt="" />
            <div className="bubble">
              {streaming.text ? <Markdown text={streaming.text} /> : <span className="typing">{scenario.characterName} is typing…</span>}
            </div>
          </div>
        )}
      </div>

      {practice.debriefs.length > 1 && (
        <details className="earlier-debriefs">
          <summary>Earlier feedback ({practice.debriefs.length - 1})</summary>
          {practice.debriefs.slice(0, -1).map((d) => (
            <DebriefCard key={d.id} debrief={d} onQuote={jumpTo} earlier />
          ))}
        </details>
      )}
      {practice.debriefs.length > 0 && <DebriefCard debrief={practice.debriefs.at(-1)!} onQuote={jumpTo} />}
      {practice.error && <ErrorBanner message={practice.error.message} onDismiss={practice.dismissError} />}
      {practice.hint && (
        <div className="coach-hint" role="status" data-testid="hint">
          <strong>Coach:</strong> {practice.hint}
          <button type="button" className="ghost small" aria-label="Dismiss the hint" onClick={practice.dismissHint}>
            ✕
          </button>
        </div>
      )}
      {atTurnLimit && practice.debriefs.length === 0 && (
        <p className="notice" role="status">
          You have reached this scenario's {scenario.turnLimit} turns: finish to get your feedback.
        </p>
      )}

      {inspecting && chat.sessionId && (
        <PromptInspector sessionId={chat.sessionId} messageId={inspecting} asAdmin={!chat.ownCharacter} onClose={() => setInspecting(null)} />
      )}

      {chat.deleted && (
        <UndoNotice testId="undo-delete" onUndo={() => void chat.undoDelete()} onDismiss={chat.dismissDeleted} dismissAfterMs={15_000}>
          {/* The server keeps deleted messages 30 days; the Undo is offered here for 15 s. */}
          Message deleted, with what followed it.
        </UndoNotice>
      )}

      {rateLimited && cooldown.until !== null ? (
        <ErrorBanner
          code={error.code}
          message={`You are sending faster than this server allows. You can send again in ${cooldown.secondsLeft} s, at ${new Date(cooldown.until).toLocaleTimeString()}. Your draft is kept.`}
          onDismiss={chat.dismissError}
        />
      ) : error && !rateLimited && (
        <ErrorBanner
          message={error.message}
          code={error.code}
          onRetry={chat.sessionId && last?.finishReason !== "opening" ? () => void chat.regenerate() : undefined}
          onDismiss={chat.dismissError}
        />
      )}

      <div className="chat-actions">
        {isPractice && (
          <>
            <button
              type="button"
              className="ghost"
              disabled={!chat.sessionId || !!streaming || practice.busy !== null}
              title={chat.sessionId ? "A suggestion for your next message, not part of the conversation" : "Write your first message, then ask"}
              onClick={() => void practice.askHint()}
            >
              {practice.busy === "hint" ? "Thinking…" : "Ask for a hint"}
            </button>
            <button
              type="button"
              className={atTurnLimit ? "" : "ghost"}
              disabled={turns === 0 || !!streaming || practice.busy !== null}
              onClick={() => void practice.finish()}
            >
              {practice.busy === "debrief" ? "Evaluating…" : practice.debriefs.length ? "Get feedback again" : "Finish and get feedback"}
            </button>
          </>
        )}
        {canRegenerate && (
          <button type="button" className="ghost" onClick={() => void chat.regenerate()}>
            {/* After a reply that failed, the person's message is the last: there is nothing to regenerate, only a reply to ask for. */}
            {last?.role === "user" ? "↻ Get a reply" : "↻ Regenerate"}
          </button>
        )}
      </div>

      <Composer
        disabled={chat.loading || (scenario.withdrawn && !chat.sessionId)}
        streaming={!!streaming}
        maxChars={maxChars}
        onSend={(text) => {
          view.follow();
          return chat.send(text);
        }}
        onStop={chat.stop}
        waitS={cooldown.secondsLeft}
        onEnhance={async (text) => {
          try {
            return (await api.enhance(text, chat.sessionId ?? undefined)).text;
          } catch (err) {
            if (!(err instanceof ApiError && err.code === "rate_limited")) throw err;
            cooldown.start(err.retryAfterS ?? 60);
            throw new Error(`Too many requests just now: you can try again in ${err.retryAfterS ?? 60} s. Your draft is kept.`);
          }
        }}
        placeholder={`Message ${scenario.characterName}…`}
      />
    </main>
  );
}

function MessageBubble({
  message,
  names,
  scenario,
  busy,
  onSwipe,
  onSelect,
  onEdit,
  onFork,
  onDelete,
  onInspect,
}: {
  message: Message;
  /** What {{user}} and {{char}} stand for in what is shown. */
  names: MacroNames;
  scenario: { avatarStyle: string; avatarSeed: string };
  /** A reply is streaming (or there is no session yet): the thread cannot change now. */
  busy: boolean;
  /** Asks for another reply beside this one. */
  onSwipe?: () => void;
  onSelect: (id: string) => void;
  /** Saves an edit as a new version; resolves whether it was taken. */
  onEdit: (text: string) => Promise<boolean>;
  /** Continues in a new conversation from this message. */
  onFork: () => void;
  onDelete?: () => void;
  /** Shows what the model saw for this reply. */
  onInspect?: () => void;
}) {
  const note = message.finishReason ? FINISH_NOTE[message.finishReason] : undefined;
  const versions = message.siblings ?? [];
  const at = versions.indexOf(message.id);
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const local = message.id.startsWith("local-") || message.id.startsWith("pending-") || message.id.startsWith("opening-");
  const save = async () => {
    if (draft === null || !draft.trim()) return;
    setSaving(true);
    const ok = await onEdit(draft);
    setSaving(false);
    if (ok) setDraft(null);
  };
  if (draft !== null) {
    return (
      <div className={`message ${message.role} editing`} data-testid={`message-${message.role}`}>
        {message.role === "assistant" && <Avatar style={scenario.avatarStyle} seed={scenario.avatarSeed} size={32} alt="" />}
        <div className="bubble">
          <textarea
            aria-label="Edit message"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            rows={Math.min(8, Math.max(2, draft.split("\n").length))}
            onKeyDown={(e) => {
              if (e.key === "Escape") setDraft(null);
              if (enterSends(e, touchOnly())) {
                e.preventDefault();
                void save();
              }
            }}
          />
          <div className="message-tools">
            <button type="button" onClick={() => void save()} disabled={saving || busy || !draft.trim()}>
              {message.role === "user" ? "Save and send" : "Save"}
            </button>
            <button type="button" className="ghost" onClick={() => setDraft(null)} disabled={saving}>
              Cancel
            </button>
          </div>
        </div>
      </div>
    );
  }
  return (
    <div className={`message ${message.role}`} data-testid={`message-${message.role}`} data-finish={message.finishReason ?? ""}>
      {message.role === "assistant" && <Avatar style={scenario.avatarStyle} seed={scenario.avatarSeed} size={32} alt="" />}
      <div className="bubble">
        <div className="message-text" data-testid="message-text">
          <Markdown text={resolveMacros(message.content, names)} />
        </div>
        {note && <p className="finish-note">{note}</p>}
        {(!local || versions.length > 1) && (
          <div className="message-tools">
            {versions.length > 1 && (
              <span className="versions" data-testid="versions">
                <button type="button" className="ghost small" aria-label="Previous version" disabled={(busy && !local) || at <= 0} onClick={() => onSelect(versions[at - 1]!)}>
                  ‹
                </button>
                <span aria-label={`Version ${at + 1} of ${versions.length}`}>
                  {at + 1}/{versions.length}
                </span>
                <button
                  type="button"
                  className="ghost small"
                  aria-label="Next version"
                  disabled={(busy && !local) || at >= versions.length - 1}
                  onClick={() => onSelect(versions[at + 1]!)}
                >
                  ›
                </button>
              </span>
            )}
            {!local && (
              <>
            {onSwipe && (
              <button type="button" className="ghost small" aria-label="Another reply here" title="Another reply here" disabled={busy} onClick={onSwipe}>
                ↻
              </button>
            )}
            <button type="button" className="ghost small" aria-label="Edit" title="Edit (kept as a new version)" disabled={busy} onClick={() => setDraft(message.content)}>
              ✎
            </button>
            <button
              type="button"
              className="ghost small"
              aria-label="Continue in a new conversation from here"
              title="Continue in a new conversation from here"
              disabled={busy}
              onClick={onFork}
            >
              ↱
            </button>
            {onInspect && !local && (
              <button type="button" className="ghost small" aria-label="What the model saw" title="What the model saw" onClick={onInspect}>
                ℹ
              </button>
            )}
            {onDelete && (
              <button type="button" className="ghost small" aria-label="Delete" title="Delete this message and what follows it" disabled={busy} onClick={onDelete}>
                ✕
              </button>
            )}
              </>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

