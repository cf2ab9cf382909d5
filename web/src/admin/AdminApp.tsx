import { createContext, useCallback, useContext, useEffect, useState, type FormEvent } from "react";
import { Link } from "wouter";
import "./admin.css";
import { ApiError } from "../api/client";
import { admin, galleryCharacters } from "./api";
import { CharacterEditor } from "../characters/CharacterEditor";
import { HealthTab } from "./HealthTab";
import { ModelsTab } from "./ModelsTab";
import { ProvidersTab } from "./ProvidersTab";
import { ScenariosTab } from "./ScenariosTab";
import { UsageTab } from "./UsageTab";
import { KeysTab } from "./KeysTab";

const TABS = [
  { id: "providers", label: "Providers", Component: ProvidersTab },
  { id: "models", label: "Models", Component: ModelsTab },
  { id: "scenarios", label: "Scenarios", Component: ScenariosTab },
  { id: "health", label: "Health", Component: HealthTab },
  { id: "usage", label: "Usage", Component: UsageTab },
  { id: "keys", label: "Keys", Component: KeysTab },
] as const;

/** Lets any tab send the admin back to the login form when the session has ended. */
const SessionContext = createContext<{ expired: () => void }>({ expired: () => {} });

/** Turns an API failure into a message to show; a 401 ends the session instead. */
export function useApiError() {
  const { expired } = useContext(SessionContext);
  return useCallback(
    (err: unknown): string | undefined => {
      if (err instanceof ApiError && err.status === 401) {
        expired();
        return undefined;
      }
      return err instanceof Error ? err.message : String(err);
    },
    [expired],
  );
}

export default function AdminApp({ tab, character }: { tab?: string; /** A gallery character to edit, with its lorebooks. */ character?: string }) {
  const [state, setState] = useState<"checking" | "out" | "in">("checking");

  useEffect(() => {
    admin.session().then(
      () => setState("in"),
      () => setState("out"),
    );
  }, []);

  const expired = useCallback(() => setState("out"), []);
  if (state === "checking") return <main className="admin"><p className="muted">Loading…</p></main>;
  if (state === "out") return <Login onIn={() => setState("in")} />;

  const current = TABS.find((t) => t.id === tab) ?? TABS[0];
  return (
    <SessionContext.Provider value={{ expired }}>
      <main className="admin">
        <header className="admin-header">
          <h1>Parley admin</h1>
          <nav aria-label="Admin sections">
            {TABS.map((t) => (
              <Link key={t.id} href={`/admin/${t.id}`} className={t.id === current.id ? "tab active" : "tab"} aria-current={t.id === current.id ? "page" : undefined}>
                {t.label}
              </Link>
            ))}
          </nav>
          <div className="admin-header-actions">
            <a href="/">Open the chat</a>
            <button type="button" className="ghost" onClick={() => void admin.logout().finally(() => setState("out"))}>
              Log out
            </button>
          </div>
        </header>
        {character ? (
          <CharacterEditor backend={galleryCharacters} slug={character} backHref="/admin/scenarios" backLabel="Scenarios" />
        ) : (
          <current.Component />
        )}
      </main>
    </SessionContext.Provider>
  );
}

function Login({ onIn }: { onIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) return setError("Enter the admin token");
    setBusy(true);
    try {
      await admin.login(token.trim());
      onIn();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="admin admin-login">
      <form onSubmit={(e) => void submit(e)} className="panel">
        <h1>Parley admin</h1>
        <p className="muted">
          Log in with the admin token: <code>ADMIN_TOKEN</code>, or the one Parley printed on its first start (the README says how to make a new one).
        </p>
        <div className="field">
          <label htmlFor="admin-token">Admin token</label>
          <input id="admin-token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
