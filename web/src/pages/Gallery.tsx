import { useEffect, useState } from "react";
import { Link } from "wouter";
import { DEFAULT_PERSONA_NAME, resolveMacros } from "../../../contracts/macros";
import { api, type Character, type Persona, type Scenario } from "../api/client";
import { CharacterImport } from "../components/CharacterImport";
import { Avatar } from "../components/Avatar";
import { ErrorBanner } from "../components/ErrorBanner";
import { PersonaEditor } from "../components/PersonaEditor";
import { UndoNotice } from "../components/UndoNotice";

const RATING_LABEL: Record<string, string> = { general: "All ages", teen: "Teen", mature: "Mature" };

export function Gallery() {
  const [scenarios, setScenarios] = useState<Scenario[] | null>(null);
  const [builtin, setBuiltin] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [persona, setPersona] = useState<Persona | null>(null);
  const [editingPersona, setEditingPersona] = useState(false);
  const [characters, setCharacters] = useState<Character[]>([]);
  const loadCharacters = () => api.characters().then((r) => setCharacters(r.characters), () => {});
  /** The character just taken out of the list, offered back until dismissed. */
  const [removed, setRemoved] = useState<Character | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  /** Runs an action on the person's characters; what went wrong is shown until the next one. */
  const act = async (run: () => Promise<void>) => {
    setActionError(null);
    await run().catch((err: Error) => setActionError(err.message));
  };
  const remove = (s: Character) =>
    act(async () => {
      await api.removeCharacter(s.slug);
      setCharacters((all) => all.filter((x) => x.slug !== s.slug));
      setRemoved(s);
    });
  const undoRemove = (s: Character) =>
    act(async () => {
      await api.restoreCharacter(s.slug);
      setRemoved(null);
      await loadCharacters();
    });

  useEffect(() => {
    void loadCharacters();
  }, []);

  useEffect(() => {
    api.persona().then((r) => setPersona(r.persona), () => {});
  }, []);

  useEffect(() => {
    setError(null);
    api
      .scenarios()
      .then((r) => {
        setScenarios(r.scenarios);
        setBuiltin(r.source === "builtin");
      })
      .catch((err: Error) => setError(err.message));
  }, [attempt]);

  const groups: { title: string; items: (Scenario | Character)[] }[] = [
    { title: "Practice conversations", items: scenarios?.filter((s) => s.category === "practice") ?? [] },
    { title: "Stories", items: scenarios?.filter((s) => s.category === "story") ?? [] },
    { title: "My characters", items: characters },
  ];

  return (
    <main className="gallery">
      <header className="gallery-header">
        <h1>Parley</h1>
        <p>Pick a scenario and talk with its character. Practise a hard conversation, or step into a story.</p>
        <p className="gallery-persona">
          <Link href="/conversations">Your conversations →</Link>
          <span className="muted">·</span>
          <span>
            You are <strong data-testid="persona-name">{persona?.name ?? DEFAULT_PERSONA_NAME}</strong>
          </span>
          <button type="button" className="ghost small" onClick={() => setEditingPersona((v) => !v)}>
            {persona ? "Edit persona" : "Set your persona"}
          </button>
        </p>
      </header>
      {editingPersona && (
        <PersonaEditor
          initial={persona}
          inConversation={false}
          onSave={async (value) => {
            if (!value) return null;
            try {
              setPersona((await api.setPersona(value)).persona);
              return null;
            } catch (err) {
              return (err as Error).message;
            }
          }}
          onClose={() => setEditingPersona(false)}
        />
      )}
      {error && <ErrorBanner message={error} onRetry={() => setAttempt((n) => n + 1)} />}
      {actionError && <ErrorBanner message={actionError} onDismiss={() => setActionError(null)} />}
      {builtin && (
        <p className="notice" role="status">
          The database is unavailable: showing the built-in scenarios. Conversations cannot be saved until it is back.
        </p>
      )}
      {!scenarios && !error && <p className="muted">Loading scenarios…</p>}
      {groups.map(
        (g) =>
          g.items.length > 0 && (
            <section key={g.title} aria-labelledby={`group-${g.title.toLowerCase().replace(/\s+/g, "-")}`}>
              <h2 id={`group-${g.title.toLowerCase().replace(/\s+/g, "-")}`}>{g.title}</h2>
              <ul className="cards">
                {g.items.map((s) => (
                  <li key={s.slug}>
                    <Link href={`/s/${s.slug}`} className="card" data-testid="scenario-card">
                      <div className="card-top">
                        <Avatar style={s.avatarStyle} seed={s.avatarSeed} size={56} alt="" />
                        <div>
                          <h3>{s.title}</h3>
                          <p className="character">with {s.characterName}</p>
                        </div>
                      </div>
                      <p className="description">{resolveMacros(s.description, { user: persona?.name ?? DEFAULT_PERSONA_NAME, char: s.characterName })}</p>
                      <div className="meta">
                        {"creator" in s && s.creator && <span className="tag">by {s.creator}</span>}
                        <span className={`rating rating-${s.contentRating}`}>{RATING_LABEL[s.contentRating]}</span>
                        {s.tags.map((t) => (
                          <span key={t} className="tag">
                            {t}
                          </span>
                        ))}
                      </div>
                    </Link>
                    {"creator" in s && (
                      <p className="card-actions">
                        <Link href={`/characters/${s.slug}`}>Edit character &amp; lorebooks</Link> · Export as{" "}
                        {(["png", "json", "charx"] as const).map((f, i) => (
                          <span key={f}>
                            {i > 0 && " · "}
                            <a href={`/api/characters/${encodeURIComponent(s.slug)}/export?format=${f}`} download>
                              {f.toUpperCase()}
                            </a>
                          </span>
                        ))}
                        {" · "}
                        <button type="button" className="link-button" aria-label={`Remove ${s.characterName} from your characters`} onClick={() => void remove(s as Character)}>
                          Remove
                        </button>
                      </p>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          ),
      )}
      {removed && (
        <UndoNotice testId="undo-remove-character" onUndo={() => void undoRemove(removed)} onDismiss={() => setRemoved(null)}>
          {removed.characterName} removed from your characters. Your conversations with {removed.characterName} stay under{" "}
          <Link href="/conversations">Your conversations</Link>.
        </UndoNotice>
      )}
      <section aria-labelledby="import-title">
        <h2 id="import-title">Bring your characters</h2>
        <p className="muted">Character cards from SillyTavern, RisuAI, Agnai or card sites become characters of your own, visible only to you.</p>
        <CharacterImport onImported={() => void loadCharacters()} />
      </section>
    </main>
  );
}
