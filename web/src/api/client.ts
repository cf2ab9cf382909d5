import { EventSourceParserStream } from "eventsource-parser/stream";
import type {
  CharacterView,
  MessagePageView,
  MessageView,
  PublicScenario,
  ReplyEvent,
  ScenarioDetail,
  ReplyStartEvent,
  ScenarioSource,
  SessionSummaryView,
  SessionView,
} from "../../../contracts/api-views";
import type { Persona } from "../../../contracts/persona";
import { characterBackend, type PromptReport } from "./characters";

export type { Persona };

/** JSON turns the server's Dates into strings. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type Scenario = Json<PublicScenario> & { source: ScenarioSource };
/** A scenario as its chat opens: with the alternate greetings to choose from before the first message. */
export type ScenarioPage = Json<ScenarioDetail> & { source: ScenarioSource };
export type Character = Json<CharacterView>;
export type Message = Json<MessageView>;
export type Session = Json<SessionView>;
export type SessionSummary = Json<SessionSummaryView>;
export type StreamEvent = Json<ReplyEvent> | { type: "start"; data: Json<ReplyStartEvent> };

/** An error the server explained: its code drives the UI, its message is shown as is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-field messages, keyed by the field's dotted path, for forms. */
    readonly fields: Record<string, string> = {},
    /** From Retry-After on a 429: when the server will take the request again. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      headers: { "Content-Type": "application/json", Accept: "application/json", ...init?.headers },
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Parley's server cannot be reached. Check that it is running.");
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return null as T;
  return (await res.json()) as T;
}

export async function toApiError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null;
  const retryAfter = Number(res.headers.get("retry-after"));
  return new ApiError(
    res.status,
    body?.error?.code ?? "http_error",
    body?.error?.message ?? `The server answered ${res.status} ${res.statusText}`,
    body?.error?.fields,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

/** A person's own characters and lorebooks, edited. */
export const characters = characterBackend(
  <T,>(method: string, path: string, body?: unknown) => request<T>(`/api${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
  "/api",
);

/** Set when this browser has logged in to the dashboard: the chat then offers an admin what the model saw for any reply. */
export const ADMIN_SEEN_KEY = "parley.admin";

export const api = {
  /** What the model saw for one reply: the person's own character's, or (`asAdmin`) any, for an admin. */
  promptReport: (sessionId: string, messageId: string, asAdmin = false) =>
    request<PromptReport>(`/api${asAdmin ? "/admin" : ""}/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/prompt`),
  config: () => request<{ maxMessageChars: number }>("/api/config"),
  scenarios: () => request<{ source: ScenarioSource; scenarios: Scenario[] }>("/api/scenarios"),
  scenario: (slug: string) => request<{ scenario: ScenarioPage }>(`/api/scenarios/${encodeURIComponent(slug)}`),
  /** The person's own characters, imported from their cards. */
  characters: () => request<{ characters: Character[] }>("/api/characters"),
  /** One card file (PNG, CHARX or JSON) as the request's body. */
  importCharacter: (file: Blob) =>
    request<{ character: Character; alreadyImported: boolean; warnings: string[] }>("/api/characters", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: file,
    }),
  /** Takes one of the person's characters out of their list (its conversations stay); restoreCharacter is its Undo. */
  removeCharacter: (slug: string) => request<{ removed: string }>(`/api/characters/${encodeURIComponent(slug)}`, { method: "DELETE" }),
  restoreCharacter: (slug: string) =>
    request<{ character: Character }>(`/api/characters/${encodeURIComponent(slug)}/restore`, { method: "POST", body: "{}" }),
  createSession: (scenario: string) =>
    request<{ session: Session }>("/api/sessions", { method: "POST", body: JSON.stringify({ scenario }) }),
  session: (id: string) => request<{ session: Session }>(`/api/sessions/${encodeURIComponent(id)}`),
  /** The page of the thread above `before` (the oldest message shown). */
  olderMessages: (sessionId: string, before: string) =>
    request<Json<MessagePageView>>(`/api/sessions/${encodeURIComponent(sessionId)}/messages?before=${encodeURIComponent(before)}`),
  /** The person's conversations, newest activity first. */
  sessions: (search?: string) => request<{ sessions: SessionSummary[] }>(`/api/sessions${search ? `?q=${encodeURIComponent(search)}` : ""}`),
  renameSession: (id: string, title: string) =>
    request<{ ok: true }>(`/api/sessions/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify({ title }) }),
  /** The conversation's own persona; null goes back to the person's usual one. */
  setSessionPersona: (id: string, persona: Persona | null) =>
    request<{ ok: true }>(`/api/sessions/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify({ persona }) }),
  /** A SillyTavern chat (JSONL text) as a new conversation of a scenario. */
  importSession: (scenario: string, jsonl: string, title?: string) =>
    request<{ session: Session }>("/api/sessions/import", { method: "POST", body: JSON.stringify({ scenario, jsonl, ...(title ? { title } : {}) }) }),
  /** Where the browser downloads a conversation from (the cookie says whose). */
  exportUrl: (id: string, format: "jsonl" | "markdown") => `/api/sessions/${encodeURIComponent(id)}/export?format=${format}`,
  persona: () => request<{ persona: Persona | null }>("/api/persona"),
  setPersona: (persona: Persona) => request<{ persona: Persona }>("/api/persona", { method: "PUT", body: JSON.stringify(persona) }),
  /** Deletes a conversation from the list; restoreSession is its Undo. */
  deleteSession: (id: string) => request<{ ok: true }>(`/api/sessions/${encodeURIComponent(id)}`, { method: "DELETE" }),
  restoreSession: (id: string) => request<{ ok: true }>(`/api/sessions/${encodeURIComponent(id)}/restore`, { method: "POST", body: "{}" }),
  /** The draft rewritten by the `enhance` task; the session (when there is one) lends its scenario as context. */
  enhance: (text: string, sessionId?: string) =>
    request<{ text: string }>("/api/enhance", { method: "POST", body: JSON.stringify({ text, ...(sessionId ? { sessionId } : {}) }) }),
  sendMessage: (sessionId: string, content: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal) =>
    stream(`/api/sessions/${encodeURIComponent(sessionId)}/messages`, { content }, onEvent, signal),
  regenerate: (sessionId: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal) =>
    stream(`/api/sessions/${encodeURIComponent(sessionId)}/regenerate`, {}, onEvent, signal),
  /** Another reply beside this one (a swipe), wherever it is in the thread. */
  regenerateAt: (sessionId: string, messageId: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal) =>
    stream(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/regenerate`, {}, onEvent, signal),
  /** Edits the person's own message: a new version, and the reply to it, streamed. */
  editAndReply: (sessionId: string, messageId: string, content: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal) =>
    stream(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/edit`, { content }, onEvent, signal),
  /** Rewrites a character's line: a new version marked edited. */
  editReply: (sessionId: string, messageId: string, content: string) =>
    request<{ session: Session }>(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/edit`, {
      method: "POST",
      body: JSON.stringify({ content }),
    }),
  deleteMessage: (sessionId: string, messageId: string) =>
    request<{ session: Session }>(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}`, { method: "DELETE" }),
  restoreMessage: (sessionId: string, messageId: string) =>
    request<{ session: Session }>(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/restore`, { method: "POST", body: "{}" }),
  /** "Continue in a new conversation from here": a new session with the thread up to the message. */
  fork: (sessionId: string, messageId: string) =>
    request<{ session: Session }>(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/fork`, { method: "POST", body: "{}" }),
  /** Switches the thread to another version of a message; the session as it now reads. */
  select: (sessionId: string, messageId: string) =>
    request<{ session: Session }>(`/api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/select`, { method: "POST", body: "{}" }),
};

/** POSTs and reads the reply's server-sent events until the stream ends. */
async function stream(path: string, body: unknown, onEvent: (e: StreamEvent) => void, signal: AbortSignal) {
  let res: Response;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Parley's server cannot be reached. Check that it is running.");
  }
  if (!res.ok || !res.body) throw await toApiError(res);
  const reader = res.body
    .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const data = JSON.parse(value.data);
    // The SSE event name is the event's type.
    onEvent(value.event === "start" ? { type: "start", data } : ({ ...data, type: value.event } as StreamEvent));
  }
}
