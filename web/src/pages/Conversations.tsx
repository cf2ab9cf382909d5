import { useEffect, useState } from "react";
import { Link, useLocation } from "wouter";
import { api, type SessionSummary } from "../api/client";
import { rememberSession } from "../api/session-memory";
import { Avatar } from "../components/Avatar";
import { ErrorBanner } from "../components/ErrorBanner";

/**
 * The person's conversations, newest activity first: any of them is one click away however long
 * ago it was (a scenario opened later than 30 minutes after its last activity starts a new one).
 */
export function Conversations() {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [, navigate] = useLocation();

  useEffect(() => {
    document.title = "Your conversations · Parley";
    api.sessions().then((r) => setSessions(r.sessions), (err: Error) => setError(err.message));
  }, []);

  const q = query.trim().toLowerCase();
  const shown = (sessions ?? []).filter(
    (s) => !q || `${s.scenario.title} ${s.scenario.characterName} ${s.lastMessage ?? ""}`.toLowerCase().includes(q),
  );

  const open = (s: SessionSummary) => {
    // The chat resumes the scenario's remembered conversation: this one, from now.
    rememberSession(s.scenario.slug, s.id);
    navigate(`/s/${s.scenario.slug}`);
  };

  return (
    <main className="gallery conversations">
      <p className="back">
        <Link href="/">← All scenarios</Link>
      </p>
      <header className="gallery-header">
        <h1>Your conversations</h1>
      </header>
      {error && <ErrorBanner message={error} />}
      {!sessions && !error && <p className="muted">Loading…</p>}
      {sessions && sessions.length === 0 && <p className="muted">No conversations yet: pick a scenario to start one.</p>}
      {sessions && sessions.length > 0 && (
        <input
          type="search"
          className="search"
          aria-label="Search conversations"
          placeholder="Search by scenario, character or last line"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      )}
      <ul className="conversation-list">
        {shown.map((s) => (
          <li key={s.id}>
            <button type="button" className="conversation" data-testid="conversation" onClick={() => open(s)}>
              <Avatar style={s.scenario.avatarStyle} seed={s.scenario.avatarSeed} size={40} alt="" />
              <span className="conversation-text">
                <strong>
                  {s.scenario.characterName} · {s.scenario.title}
                </strong>
                {s.lastMessage && <span className="muted last-line">{s.lastMessage}</span>}
              </span>
              <time dateTime={s.updatedAt}>{new Date(s.updatedAt).toLocaleString()}</time>
            </button>
          </li>
        ))}
      </ul>
    </main>
  );
}
