import { Route, Switch } from "wouter";
import { Chat } from "./pages/Chat";
import { Gallery } from "./pages/Gallery";

export function App() {
  return (
    <Switch>
      <Route path="/">
        <Gallery />
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
