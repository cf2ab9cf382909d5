import { useEffect, useState } from "react";
import type { CardLorebook, CharacterBackend, Lorebook } from "../api/characters";

type Entry = CardLorebook["entries"][number];
type Ext = Record<string, unknown>;

const LOGICS = ["AND ANY", "NOT ALL", "NOT ANY", "AND ALL"];
const ROLES = ["system", "user", "assistant"];

/**
 * Where an entry goes, as SillyTavern writes it into a card (its `extensions`): 0 before the
 * character, 1 after, 4 at a depth of the history with a role. Parley reads the same.
 */
const placeOf = (e: Entry): "before" | "after" | "depth" => {
  const p = (e.extensions as Ext).position;
  if (p === 4) return "depth";
  if (p === 1 || p === 2 || p === 3 || (p === undefined && e.position === "after_char")) return "after";
  return "before";
};
const num = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const list = (text: string) =>
  text
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);

/** A lorebook's entries, edited whole: what the form does not show (other apps' settings) is kept as it was. */
export function LorebookEditor({ backend, id, onSaved, onClose }: { backend: CharacterBackend; id: string; onSaved: (b: Lorebook) => void; onClose: () => void }) {
  const [name, setName] = useState("");
  const [book, setBook] = useState<CardLorebook | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [status, setStatus] = useState<{ error?: string; saved?: boolean }>({});

  useEffect(() => {
    backend.lorebook(id).then(
      (r) => {
        setName(r.lorebook.name);
        setBook(r.lorebook.book as CardLorebook);
      },
      (err: Error) => setStatus({ error: err.message }),
    );
  }, [backend, id]);

  if (!book) return <section className="lorebook-editor">{status.error ? <p className="error-text">{status.error}</p> : <p className="muted">Loading…</p>}</section>;

  const setEntry = (i: number, change: (e: Entry) => Entry) => {
    setBook({ ...book, entries: book.entries.map((e, k) => (k === i ? change(e) : e)) });
    setStatus({});
  };
  const setExt = (i: number, values: Ext) => setEntry(i, (e) => ({ ...e, extensions: { ...(e.extensions as Ext), ...values } }));
  const save = async () => {
    try {
      const r = await backend.saveLorebook(id, name, book);
      setBook(r.lorebook.book as CardLorebook);
      setStatus({ saved: true });
      onSaved(r.lorebook);
    } catch (err) {
      setStatus({ error: (err as Error).message });
    }
  };

  return (
    <section className="lorebook-editor" aria-label={`Lorebook ${name}`} data-testid="lorebook-editor">
      <header>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </label>
        <button type="button" className="ghost small" onClick={onClose} aria-label="Close the lorebook">
          ✕
        </button>
      </header>
      <div className="book-settings">
        <label>
          Scan depth{" "}
          <input type="number" min={0} max={1000} value={book.scan_depth ?? ""} placeholder="2" onChange={(e) => setBook({ ...book, scan_depth: e.target.value === "" ? undefined : Number(e.target.value) })} />
        </label>
        <label>
          Token budget{" "}
          <input type="number" min={0} value={book.token_budget ?? ""} placeholder="¼ of the window" onChange={(e) => setBook({ ...book, token_budget: e.target.value === "" ? undefined : Number(e.target.value) })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={book.recursive_scanning ?? false} onChange={(e) => setBook({ ...book, recursive_scanning: e.target.checked })} /> Entries can trigger
          other entries
        </label>
      </div>
      <ol className="entries">
        {book.entries.map((e, i) => {
          const x = e.extensions as Ext;
          const place = placeOf(e);
          return (
            <li key={i} className={`entry${e.enabled ? "" : " disabled"}`} data-testid="lore-entry">
              <button type="button" className="entry-head ghost" onClick={() => setOpen(open === i ? null : i)} aria-expanded={open === i}>
                <strong>{e.name || e.comment || e.keys.join(", ") || `Entry ${i + 1}`}</strong>
                <span className="muted">
                  {e.constant ? "always" : e.keys.join(", ") || "no keys"}
                  {e.enabled ? "" : " · off"}
                </span>
              </button>
              {open === i && (
                <div className="entry-form">
                  <label>
                    Title <input value={e.name ?? e.comment ?? ""} onChange={(ev) => setEntry(i, (en) => ({ ...en, name: ev.target.value, comment: ev.target.value }))} />
                  </label>
                  <label>
                    Keys (comma-separated; /regex/ allowed){" "}
                    <input aria-label="Keys" defaultValue={e.keys.join(", ")} onBlur={(ev) => setEntry(i, (en) => ({ ...en, keys: list(ev.target.value) }))} />
                  </label>
                  <label>
                    Secondary keys{" "}
                    <input aria-label="Secondary keys" defaultValue={(e.secondary_keys ?? []).join(", ")} onBlur={(ev) => setEntry(i, (en) => ({ ...en, secondary_keys: list(ev.target.value) }))} />
                  </label>
                  <label>
                    Content
                    <textarea aria-label="Content" rows={4} value={e.content} onChange={(ev) => setEntry(i, (en) => ({ ...en, content: ev.target.value }))} />
                  </label>
                  <div className="flags">
                    <label className="check">
                      <input type="checkbox" checked={e.enabled} onChange={(ev) => setEntry(i, (en) => ({ ...en, enabled: ev.target.checked }))} /> Enabled
                    </label>
                    <label className="check">
                      <input type="checkbox" checked={e.constant ?? false} onChange={(ev) => setEntry(i, (en) => ({ ...en, constant: ev.target.checked }))} /> Always in
                    </label>
                    <label className="check">
                      <input type="checkbox" checked={e.selective ?? false} onChange={(ev) => setEntry(i, (en) => ({ ...en, selective: ev.target.checked }))} /> Needs secondary keys:
                    </label>
                    <select aria-label="Secondary key logic" value={num(x.selectiveLogic, 0)} onChange={(ev) => setExt(i, { selectiveLogic: Number(ev.target.value) })}>
                      {LOGICS.map((l, k) => (
                        <option key={l} value={k}>
                          {l}
                        </option>
                      ))}
                    </select>
                    <label className="check">
                      <input type="checkbox" checked={e.case_sensitive ?? false} onChange={(ev) => setEntry(i, (en) => ({ ...en, case_sensitive: ev.target.checked }))} /> Case-sensitive
                    </label>
                    <label className="check">
                      <input type="checkbox" checked={x.match_whole_words === true} onChange={(ev) => setExt(i, { match_whole_words: ev.target.checked })} /> Whole words
                    </label>
                  </div>
                  <div className="flags">
                    <label>
                      Order <input type="number" value={e.insertion_order} onChange={(ev) => setEntry(i, (en) => ({ ...en, insertion_order: Number(ev.target.value) }))} />
                    </label>
                    <label>
                      Scan depth{" "}
                      <input type="number" min={0} value={typeof x.scan_depth === "number" ? x.scan_depth : ""} placeholder="book's" onChange={(ev) => setExt(i, { scan_depth: ev.target.value === "" ? null : Number(ev.target.value) })} />
                    </label>
                    <label>
                      Position{" "}
                      <select
                        aria-label="Position"
                        value={place}
                        onChange={(ev) => {
                          const v = ev.target.value;
                          setEntry(i, (en) => ({
                            ...en,
                            position: v === "before" ? "before_char" : "after_char",
                            extensions: { ...(en.extensions as Ext), position: v === "before" ? 0 : v === "after" ? 1 : 4 },
                          }));
                        }}
                      >
                        <option value="before">before the character</option>
                        <option value="after">after the character</option>
                        <option value="depth">in the history, at a depth</option>
                      </select>
                    </label>
                    {place === "depth" && (
                      <>
                        <label>
                          Depth <input type="number" min={0} value={num(x.depth, 4)} onChange={(ev) => setExt(i, { depth: Number(ev.target.value) })} />
                        </label>
                        <label>
                          As{" "}
                          <select aria-label="Role" value={num(x.role, 0)} onChange={(ev) => setExt(i, { role: Number(ev.target.value) })}>
                            {ROLES.map((r, k) => (
                              <option key={r} value={k}>
                                {r}
                              </option>
                            ))}
                          </select>
                        </label>
                      </>
                    )}
                  </div>
                  <button type="button" className="ghost small danger" onClick={() => setBook({ ...book, entries: book.entries.filter((_, k) => k !== i) })}>
                    Delete entry
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <div className="editor-actions">
        <button
          type="button"
          className="ghost"
          onClick={() => {
            setBook({ ...book, entries: [...book.entries, { keys: [], content: "", extensions: {}, enabled: true, insertion_order: 100, name: "New entry" } as Entry] });
            setOpen(book.entries.length);
          }}
        >
          + Add an entry
        </button>
        <button type="button" onClick={() => void save()}>
          Save lorebook
        </button>
        <a href={backend.lorebookExportUrl(id)} download>
          Export (lorebook_v3 JSON)
        </a>
        {status.saved && <span role="status">Saved.</span>}
        {status.error && <span className="error-text" role="alert">{status.error}</span>}
      </div>
    </section>
  );
}
