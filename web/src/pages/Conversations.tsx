import { useEffect, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import { api, type Scenario, type SessionSummary } from "../api/client";
import { forgetSession, recallSession, rememberSession } from "../api/session-memory";
import { Avatar } from "../components/Avatar";
import { ErrorBanner } from "../components/ErrorBanner";
import { UndoNotice } from "../components/UndoNotice";
import { practice, type Progress } from "../practice/api";
import { ScoreChart } from "../practice/ScoreChart";

/** How long the search waits after the last key before asking the server. */
const SEARCH_DEBOUNCE_MS = 250;

const titleOf = (s: SessionSummary) => s.title ?? s.defaultTitle ?? "New conversation";

/**
 * The person's conversations, newest activity first: any of them is one click away however long
 * ago it was (a scenario opened later than 30 minutes after its last activity starts a new one).
 * Each can be renamed or deleted (with Undo); the search looks through every message.
 */
export function Conversations() {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [deleted, setDeleted] = useState<SessionSummary | null>(null);
  const [, navigate] = useLocation();
  const asked = useRef(0);

  useEffect(() => {
    document.title = "Your conversations · Parley";
  }, []);

  // The server searches the messages themselves; the newest answer wins when the person types on.
  useEffect(() => {
    const n = ++asked.current;
    const t = setTimeout(
      () => {
        api.sessions(query.trim() || undefined).then(
          (r) => n === asked.current && setSessions(r.sessions),
          (err: Error) => n === asked.current && setError(err.message),
        );
      },
      query ? SEARCH_DEBOUNCE_MS : 0,
    );
    return () => clearTimeout(t);
  }, [query]);

  const open = (s: SessionSummary) => {
    // The chat resumes the scenario's remembered conversation: this one, from now.
    rememberSession(s.scenario.slug, s.id);
    navigate(`/s/${s.scenario.slug}`);
  };

  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
      setError(null);
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  };

  const rename = (s: SessionSummary, title: string) =>
    act(async () => {
      await api.renameSession(s.id, title);
      const trimmed = title.trim();
      setSessions((all) => all?.map((x) => (x.id === s.id ? { ...x, title: trimmed === "" ? null : trimmed } : x)) ?? null);
    });

  const remove = (s: SessionSummary) =>
    act(async () => {
      await api.deleteSession(s.id);
      if (recallSession(s.scenario.slug) === s.id) forgetSession(s.scenario.slug);
      setSessions((all) => all?.filter((x) => x.id !== s.id) ?? null);
      setDeleted(s);
    });

  const undo = (s: SessionSummary) =>
    act(async () => {
      await api.restoreSession(s.id);
      setDeleted(null);
      setSessions((all) => (all ? [...all, s].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)) : [s]));
    });

  return (
    <main className="gallery conversations">
      <p className="back">
        <Link href="/">← All scenarios</Link>
      </p>
      <header className="gallery-header">
        <h1>Your conversations</h1>
      </header>
      {error && <ErrorBanner message={error} onDismiss={() => setError(null)} />}
      <input
        type="search"
        className="search"
        aria-label="Search conversations"
        placeholder="Search titles, characters and every message"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {sessions && !query && <PracticeProgress sessions={sessions} />}
      {!sessions && !error && <p className="muted">Loading…</p>}
      {sessions && sessions.length === 0 && (
        <p className="muted">{query.trim() ? "No conversation holds that text." : "No conversations yet: pick a scenario to start one."}</p>
      )}
      <ImportChat
        onImported={(s) => {
          rememberSession(s.scenario.slug, s.id);
          navigate(`/s/${s.scenario.slug}`);
        }}
      />
      <ul className="conversation-list">
        {(sessions ?? []).map((s) => (
          <ConversationItem key={s.id} session={s} onOpen={() => open(s)} onRename={(t) => rename(s, t)} onDelete={() => remove(s)} />
        ))}
      </ul>
      {deleted && (
        <UndoNotice testId="undo-delete-conversation" onUndo={() => void undo(deleted)} onDismiss={() => setDeleted(null)}>
          “{titleOf(deleted)}” deleted.
        </UndoNotice>
      )}
    </main>
  );
}

function ConversationItem({
  session: s,
  onOpen,
  onRename,
  onDelete,
}: {
  session: SessionSummary;
  onOpen: () => void;
  onRename: (title: string) => Promise<boolean>;
  onDelete: () => Promise<boolean>;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const save = async () => {
    if (draft !== null && (await onRename(draft))) setDraft(null);
  };
  return (
    <li className="conversation-item" data-testid="conversation-item">
      {draft === null ? (
        <button type="button" className="conversation" data-testid="conversation" onClick={onOpen}>
          <Avatar style={s.scenario.avatarStyle} seed={s.scenario.avatarSeed} size={40} alt="" />
          <span className="conversation-text">
            <strong data-testid="conversation-title">{titleOf(s)}</strong>
            <span className="muted small">
              {s.scenario.characterName} · {s.scenario.title} · {s.messageCount} {s.messageCount === 1 ? "message" : "messages"}
            </span>
            {s.lastMessage && <span className="muted last-line">{s.lastMessage}</span>}
            {s.lastScore !== null && (
              <span className="badge score-badge" data-testid="conversation-score">
                score {s.lastScore}
              </span>
            )}
          </span>
          <time dateTime={s.updatedAt}>{new Date(s.updatedAt).toLocaleString()}</time>
        </button>
      ) : (
        <form
          className="conversation rename"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <input
            aria-label="Conversation title"
            value={draft}
            maxLength={120}
            autoFocus
            placeholder={s.defaultTitle ?? "New conversation"}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setDraft(null)}
          />
          <button type="submit">Save</button>
          <button type="button" className="ghost" onClick={() => setDraft(null)}>
            Cancel
          </button>
        </form>
      )}
      <div className="conversation-tools">
        {confirming ? (
          <>
            <span className="small">Delete this conversation?</span>
            <button type="button" className="danger small" onClick={() => void onDelete().then(() => setConfirming(false))}>
              Delete
            </button>
            <button type="button" className="ghost small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <>
            <button type="button" className="ghost small" aria-label={`Rename ${titleOf(s)}`} onClick={() => setDraft(s.title ?? "")}>
              Rename
            </button>
            <button type="button" className="ghost small" aria-label={`Delete ${titleOf(s)}`} onClick={() => setConfirming(true)}>
              Delete
            </button>
          </>
        )}
      </div>
    </li>
  );
}

/** Brings a SillyTavern chat (.jsonl) into one of the scenarios as a new conversation. */
function ImportChat({ onImported }: { onImported: (s: { id: string; scenario: { slug: string } }) => void }) {
  const [scenarios, setScenarios] = useState<Scenario[]>([]);
  const [scenario, setScenario] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.scenarios().then(
      (r) => {
        setScenarios(r.scenarios);
        setScenario((s) => s || (r.scenarios[0]?.slug ?? ""));
      },
      () => {},
    );
  }, []);
  const importFile = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      const { session } = await api.importSession(scenario, await file.text(), file.name.replace(/\.jsonl$/i, ""));
      onImported(session);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="import-chat">
      <summary>Import a SillyTavern chat</summary>
      <div className="import-chat-body">
        <label>
          Into the scenario{" "}
          <select aria-label="Scenario to import into" value={scenario} onChange={(e) => setScenario(e.target.value)}>
            {scenarios.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.characterName} · {s.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          Chat file (.jsonl){" "}
          <input
            type="file"
            aria-label="Chat file"
            accept=".jsonl,application/jsonl,application/x-ndjson,text/plain"
            disabled={busy || !scenario}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (file) void importFile(file);
            }}
          />
        </label>
        {busy && <p className="muted small">Importing…</p>}
        {error && (
          <p className="hint error" role="alert">
            {error}
          </p>
        )}
      </div>
    </details>
  );
}

/** Per practice scenario the person has had feedback in: their scores over attempts and what they miss most. */
function PracticeProgress({ sessions }: { sessions: SessionSummary[] }) {
  const scored = [...new Map(sessions.filter((s) => s.lastScore !== null).map((s) => [s.scenario.slug, s.scenario])).values()];
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const key = scored.map((s) => s.slug).join(",");
  useEffect(() => {
    for (const slug of key ? key.split(",") : []) {
      practice.progress(slug).then((r) => setProgress((p) => ({ ...p, [slug]: r.progress })), () => {});
    }
  }, [key]);
  if (scored.length === 0) return null;
  return (
    <section aria-labelledby="progress-title" className="practice-progress" data-testid="practice-progress">
      <h2 id="progress-title">Your practice</h2>
      <ul className="progress-list">
        {scored.map((sc) => {
          const p = progress[sc.slug];
          return (
            <li key={sc.slug}>
              <strong>{sc.title}</strong>
              {p && (
                <>
                  <ScoreChart scores={p.attempts.map((a) => a.score)} width={180} height={48} />
                  {p.mostMissed && <span className="muted small">Most often missed: {p.mostMissed.objective}</span>}
                </>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
