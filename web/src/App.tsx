import { lazy, Suspense } from "react";
import { Route, Switch } from "wouter";
import { Chat } from "./pages/Chat";
import { Conversations } from "./pages/Conversations";
import { Gallery } from "./pages/Gallery";

/** The dashboard (and its chart library) loads only for admins who open it. */
const AdminApp = lazy(() => import("./admin/AdminApp"));

export function App() {
  return (
    <Switch>
      <Route path="/">
        <Gallery />
      </Route>
      <Route path="/admin/:tab?">
        {(params) => (
          <Suspense fallback={<main className="admin"><p className="muted">Loading…</p></main>}>
            <AdminApp tab={params.tab} />
          </Suspense>
        )}
      </Route>
      <Route path="/conversations">
        <Conversations />
      </Route>
      <Route path="/s/:slug">{(params) => <Chat key={params.slug} slug={params.slug} />}</Route>
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
