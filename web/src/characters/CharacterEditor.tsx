import { useCallback, useEffect, useState } from "react";
import { Link } from "wouter";
import type { CharacterEdit } from "../../../contracts/character-card";
import { ApiError } from "../api/client";
import type { CharacterBackend, CharacterDefinition, LorebookSummary } from "../api/characters";
import { Avatar } from "../components/Avatar";
import { LorebookEditor } from "./LorebookEditor";

type Field = { key: keyof CharacterEdit; label: string; rows?: number; help?: string };

/** The card's fields, in the order the prompt uses them (README, "Character cards"). */
const FIELDS: Field[] = [
  { key: "name", label: "Name" },
  { key: "nickname", label: "Nickname", help: "What {{char}} stands for, when set" },
  { key: "system_prompt", label: "System prompt", rows: 3, help: "Replaces Parley's default; {{original}} inside it inserts the default" },
  { key: "description", label: "Description", rows: 6 },
  { key: "personality", label: "Personality", rows: 2 },
  { key: "scenario", label: "Scenario", rows: 3 },
  { key: "first_mes", label: "First message", rows: 4 },
  { key: "mes_example", label: "Example dialogue", rows: 5, help: "Blocks start with <START>; dropped first when the window is short" },
  { key: "post_history_instructions", label: "Post-history instructions", rows: 2, help: "Sent after the conversation" },
  { key: "creator_notes", label: "Creator's notes", rows: 3, help: "Shown to people, never sent to the model" },
  { key: "creator", label: "Creator" },
  { key: "character_version", label: "Version" },
];

/**
 * A character whole, for whoever owns it (a person their own, an admin the gallery's): its card's
 * fields, and the lorebooks its replies draw on, each editable here.
 */
export function CharacterEditor({ backend, slug, backHref, backLabel }: { backend: CharacterBackend; slug: string; backHref: string; backLabel: string }) {
  const [character, setCharacter] = useState<CharacterDefinition | null>(null);
  const [form, setForm] = useState<CharacterEdit>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ error?: string; saved?: boolean }>({});
  const [books, setBooks] = useState<LorebookSummary[]>([]);
  const [editingBook, setEditingBook] = useState<string | null>(null);
  const [bookError, setBookError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [{ character: c }, { lorebooks }] = await Promise.all([backend.definition(slug), backend.lorebooks()]);
      setCharacter(c);
      setBooks(lorebooks);
      setForm(Object.fromEntries([...FIELDS.map((f) => [f.key, c.card[f.key as keyof typeof c.card] ?? ""]), ["alternate_greetings", c.card.alternate_greetings], ["tags", c.card.tags]]));
    } catch (err) {
      setStatus({ error: (err as Error).message });
    }
  }, [backend, slug]);
  useEffect(() => {
    void load();
  }, [load]);
  /** After a lorebook changed: the lists again, the form as the person left it. */
  const refreshBooks = async () => {
    const [{ character: c }, { lorebooks }] = await Promise.all([backend.definition(slug), backend.lorebooks()]);
    setCharacter(c);
    setBooks(lorebooks);
  };

  if (!character) return <main className="character-page">{status.error ? <p className="error-text">{status.error}</p> : <p className="muted">Loading…</p>}</main>;

  const save = async () => {
    setErrors({});
    try {
      const r = await backend.edit(slug, form);
      setCharacter(r.character);
      setStatus({ saved: true });
    } catch (err) {
      setStatus({ error: (err as Error).message });
      if (err instanceof ApiError) setErrors(err.fields);
    }
  };
  const attached = character.lorebooks;
  const others = books.filter((b) => !attached.some((a) => a.id === b.id));
  const greetings = form.alternate_greetings ?? [];

  const bookAction = async (work: () => Promise<unknown>) => {
    setBookError(null);
    try {
      await work();
      await refreshBooks();
    } catch (err) {
      setBookError((err as Error).message);
    }
  };

  return (
    <main className="character-page">
      <p className="back">
        <Link href={backHref}>← {backLabel}</Link>
      </p>
      <header className="character-header">
        <Avatar style={character.avatarStyle} seed={character.avatarSeed} size={64} alt="" />
        <div>
          <h1>{character.title}</h1>
          <p className="muted">
            {character.creator && <>by {character.creator} · </>}
            Export as{" "}
            {(["png", "json", "charx"] as const).map((f, i) => (
              <span key={f}>
                {i > 0 && " · "}
                <a href={backend.exportUrl(slug, f)} download>
                  {f.toUpperCase()}
                </a>
              </span>
            ))}
          </p>
        </div>
      </header>

      <form
        className="character-form"
        aria-label="Character definition"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.key}>
            <span>{f.label}</span>
            {f.rows ? (
              <textarea rows={f.rows} value={String(form[f.key] ?? "")} onChange={(e) => setForm({ ...form, [f.key]: e.target.value })} />
            ) : (
              <input value={String(form[f.key] ?? "")} onChange={(e) => setForm({ ...form, [f.key]: e.target.value })} />
            )}
            {f.help && <small className="muted">{f.help}</small>}
            {errors[f.key] && <small className="error-text">{errors[f.key]}</small>}
          </label>
        ))}
        <fieldset>
          <legend>Alternate greetings (swipes of the first message)</legend>
          {greetings.map((g, i) => (
            <div key={i} className="greeting">
              <textarea aria-label={`Alternate greeting ${i + 1}`} rows={2} value={g} onChange={(e) => setForm({ ...form, alternate_greetings: greetings.map((x, k) => (k === i ? e.target.value : x)) })} />
              <button type="button" className="ghost small" onClick={() => setForm({ ...form, alternate_greetings: greetings.filter((_, k) => k !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="ghost small" onClick={() => setForm({ ...form, alternate_greetings: [...greetings, ""] })}>
            + Add a greeting
          </button>
        </fieldset>
        <label>
          <span>Tags (comma-separated)</span>
          <input
            value={(form.tags ?? []).join(", ")}
            onChange={(e) =>
              setForm({
                ...form,
                tags: e.target.value
                  .split(",")
                  .map((t) => t.trim())
                  .filter(Boolean),
              })
            }
          />
          {errors.tags && <small className="error-text">{errors.tags}</small>}
        </label>
        <div className="editor-actions">
          <button type="submit">Save character</button>
          {status.saved && <span role="status">Saved.</span>}
          {status.error && (
            <span className="error-text" role="alert">
              {status.error}
            </span>
          )}
        </div>
      </form>

      <section aria-labelledby="lorebooks-title" className="character-lorebooks">
        <h2 id="lorebooks-title">Lorebooks</h2>
        <p className="muted">Entries reach the model only when the conversation mentions their keys, within each book's token budget.</p>
        {attached.length === 0 && <p className="muted">None attached.</p>}
        <ul className="lorebook-list">
          {attached.map((b) => (
            <li key={b.id} data-testid="attached-lorebook">
              <strong>{b.name}</strong> <span className="muted">{b.entries} entries{b.characters.find((c) => c.slug === slug)?.embedded ? " · from the card" : ""}</span>{" "}
              <button type="button" className="ghost small" onClick={() => setEditingBook(b.id)}>
                Edit entries
              </button>
              <button type="button" className="ghost small" onClick={() => void bookAction(() => backend.detach(b.id, slug))}>
                Detach
              </button>
            </li>
          ))}
        </ul>
        <div className="lorebook-add">
          {others.length > 0 && (
            <label>
              Attach{" "}
              <select aria-label="Attach a lorebook" value="" onChange={(e) => e.target.value && void bookAction(() => backend.attach(e.target.value, slug))}>
                <option value="">a lorebook…</option>
                {others.map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.name} ({b.entries})
                  </option>
                ))}
              </select>
            </label>
          )}
          <label className="file-button">
            Import a lorebook file (World Info or lorebook_v3 JSON)
            <input
              type="file"
              accept=".json,application/json"
              aria-label="Lorebook file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                e.target.value = "";
                if (!file) return;
                void bookAction(async () => {
                  let json: unknown;
                  try {
                    json = JSON.parse(await file.text());
                  } catch {
                    throw new Error(`${file.name}: not a lorebook (it is not JSON)`);
                  }
                  const { lorebook } = await backend.importLorebook(json, file.name);
                  await backend.attach(lorebook.id, slug);
                });
              }}
            />
          </label>
        </div>
        {bookError && (
          <p className="error-text" role="alert">
            {bookError}
          </p>
        )}
        {editingBook && (
          <LorebookEditor key={editingBook} backend={backend} id={editingBook} onSaved={() => void refreshBooks()} onClose={() => setEditingBook(null)} />
        )}
      </section>
    </main>
  );
}
