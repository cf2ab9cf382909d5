/**
 * Remembers each scenario's active session for 30 minutes after the last activity, so closing
 * the tab and coming back resumes the conversation; after that, the scenario starts afresh
 * (the old session stays on the server).
 */
export const SESSION_TTL_MS = 30 * 60 * 1000;
const key = (slug: string) => `parley.session.${slug}`;

type Entry = { id: string; lastActive: number };

export function recallSession(slug: string, now = Date.now()): string | undefined {
  try {
    const raw = localStorage.getItem(key(slug));
    if (!raw) return undefined;
    const entry = JSON.parse(raw) as Entry;
    if (typeof entry.id !== "string" || now - entry.lastActive > SESSION_TTL_MS) {
      localStorage.removeItem(key(slug));
      return undefined;
    }
    return entry.id;
  } catch {
    return undefined;
  }
}

export function rememberSession(slug: string, id: string, now = Date.now()): void {
  try {
    localStorage.setItem(key(slug), JSON.stringify({ id, lastActive: now } satisfies Entry));
  } catch {
    // Storage full or disabled: the session still works, it just won't resume.
  }
}

export function forgetSession(slug: string): void {
  try {
    localStorage.removeItem(key(slug));
  } catch {
    /* as above */
  }
}
