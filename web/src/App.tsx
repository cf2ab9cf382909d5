import { lazy, Suspense } from "react";
import { Route, Switch } from "wouter";
import { Gallery } from "./pages/Gallery";

/** The dashboard (and its chart library) loads only for admins who open it. */
const AdminApp = lazy(() => import("./admin/AdminApp"));
/** The chat's Markdown renderer and windowed list load with the chat, not with the gallery. */
const Chat = lazy(() => import("./pages/Chat").then((m) => ({ default: m.Chat })));
/** A person's own character, edited with its lorebooks. */
const CharacterPage = lazy(() => import("./characters/CharacterPage"));
const Conversations = lazy(() => import("./pages/Conversations").then((m) => ({ default: m.Conversations })));

const loading = (
  <main className="chat">
    <p className="muted">Loading…</p>
  </main>
);

export function App() {
  return (
    <Switch>
      <Route path="/">
        <Gallery />
      </Route>
      <Route path="/admin/characters/:slug">
        {(params) => (
          <Suspense fallback={<main className="admin"><p className="muted">Loading…</p></main>}>
            <AdminApp tab="scenarios" character={params.slug} />
          </Suspense>
        )}
      </Route>
      <Route path="/characters/:slug">
        {(params) => (
          <Suspense fallback={loading}>
            <CharacterPage slug={params.slug} />
          </Suspense>
        )}
      </Route>
      <Route path="/admin/:tab?">
        {(params) => (
          <Suspense fallback={<main className="admin"><p className="muted">Loading…</p></main>}>
            <AdminApp tab={params.tab} />
          </Suspense>
        )}
      </Route>
      <Route path="/conversations">
        <Suspense fallback={loading}>
          <Conversations />
        </Suspense>
      </Route>
      <Route path="/s/:slug">
        {(params) => (
          <Suspense fallback={loading}>
            <Chat key={params.slug} slug={params.slug} />
          </Suspense>
        )}
      </Route>
      <Route>
        <main className="gallery">
          <h1>Not found</h1>
          <p>
            <a href="/">Back to the scenarios</a>
          </p>
        </main>
      </Route>
    </Switch>
  );
}
