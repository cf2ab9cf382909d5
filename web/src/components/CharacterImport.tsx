import { useRef, useState } from "react";
import { api, type Character } from "../api/client";

type FileState = { name: string; state: "importing" | "imported" | "already" | "failed"; message?: string; character?: Character };

const LABEL: Record<FileState["state"], string> = {
  importing: "Importing…",
  imported: "Imported",
  already: "Already imported",
  failed: "Not imported",
};

/**
 * Drop character cards (PNG, CHARX or JSON, as SillyTavern, RisuAI, Agnai and card sites make them)
 * or pick them: each file is sent on its own, so each succeeds or fails on its own, with its state
 * shown as it goes.
 */
export function CharacterImport({ onImported }: { onImported: () => void }) {
  const [files, setFiles] = useState<FileState[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const importAll = async (list: FileList | File[]) => {
    const picked = [...list];
    const base = files.length;
    setFiles((f) => [...f, ...picked.map((file) => ({ name: file.name, state: "importing" as const }))]);
    await Promise.all(
      picked.map(async (file, i) => {
        const set = (s: Omit<FileState, "name">) => setFiles((f) => f.map((x, k) => (k === base + i ? { name: x.name, ...s } : x)));
        try {
          const r = await api.importCharacter(file);
          set({ state: r.alreadyImported ? "already" : "imported", character: r.character, message: r.warnings.join(" ") || undefined });
        } catch (err) {
          set({ state: "failed", message: (err as Error).message });
        }
      }),
    );
    onImported();
  };

  return (
    <div className="card-import">
      <div
        className={`drop-zone${over ? " over" : ""}`}
        data-testid="card-drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void importAll(e.dataTransfer.files);
        }}
      >
        <p>Drop character cards here (PNG, CHARX or JSON), or</p>
        <button type="button" onClick={() => input.current?.click()}>
          Choose files
        </button>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          accept=".png,.apng,.json,.charx,image/png,application/json"
          aria-label="Character card files"
          onChange={(e) => {
            if (e.target.files?.length) void importAll(e.target.files);
            e.target.value = "";
          }}
        />
      </div>
      {files.length > 0 && (
        <ul className="import-results" aria-live="polite">
          {files.map((f, i) => (
            <li key={i} className={`import-${f.state}`} data-testid="import-result">
              <strong>{f.name}</strong>: {LABEL[f.state]}
              {f.character && f.state !== "failed" && <> as {f.character.title}</>}
              {f.message && <span className="import-message"> — {f.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
