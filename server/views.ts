/**
 * What the API sends to browsers, derived from the table types. The web app imports these
 * (type-only), so this module must import nothing that needs Node.
 */
import type { Persona } from "../contracts/persona.js";
import type { MessageRow, ScenarioRow } from "./db/schema.js";

export const PUBLIC_SCENARIO_FIELDS = [
  "id",
  "slug",
  "title",
  "characterName",
  "description",
  "category",
  "tags",
  "contentRating",
  "openingMessage",
  "avatarStyle",
  "avatarSeed",
] as const satisfies readonly (keyof ScenarioRow)[];

/** Everything a browser may see of a scenario. The system prompt is deliberately absent. */
export type PublicScenario = Pick<ScenarioRow, (typeof PUBLIC_SCENARIO_FIELDS)[number]>;
export type ScenarioSource = "database" | "builtin";

export const MESSAGE_VIEW_FIELDS = [
  "id",
  "parentId",
  "role",
  "content",
  "finishReason",
  "provider",
  "model",
  "error",
  "editedAt",
  "contextFromId",
  "createdAt",
] as const satisfies readonly (keyof MessageRow)[];

export type MessageView = Pick<MessageRow, (typeof MESSAGE_VIEW_FIELDS)[number]> & {
  /** For a message with siblings (a reply's swipes, an edit's versions): all of them, itself included, oldest first. */
  siblings?: string[];
};

/** Copies only the listed fields: what is not on the list never reaches a browser. */
export function pickFields<T, K extends keyof T>(row: T, fields: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const f of fields) out[f] = row[f];
  return out;
}

/** One conversation in the person's list: its scenario's public face and the thread's last line. */
export type SessionSummaryView = {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  /** The person's name for it; null when they gave none (then `defaultTitle`, the first thing they said, is shown). */
  title: string | null;
  defaultTitle: string | null;
  /** Messages in the conversation, on every branch (deleted ones not counted). */
  messageCount: number;
  scenario: Pick<PublicScenario, "slug" | "title" | "characterName" | "avatarStyle" | "avatarSeed">;
  /** The first characters of the thread's last message. */
  lastMessage: string | null;
};

/**
 * A page of a thread, oldest first. `olderCursor` names the page's oldest message when more of the
 * thread lies above it: `GET /api/sessions/:id/messages?before=<olderCursor>` reads the page above.
 */
export type MessagePageView = {
  messages: MessageView[];
  olderCursor: string | null;
};

/** A conversation as it opens: the newest page of its thread (older pages on request). */
export type SessionView = MessagePageView & {
  id: string;
  scenario: PublicScenario;
  createdAt: Date;
  updatedAt: Date;
  title: string | null;
  /** Who the person is in this conversation (`{{user}}`): its own persona, else their usual one; null when none is set. */
  persona: Persona | null;
  /** Whether the conversation has a persona of its own. */
  ownPersona: boolean;
};

/** The server-sent events of a reply, in order: start, delta*, then done or error. */
export type ReplyStartEvent = { userMessage: MessageView | null; provider?: string; model?: string };
export type ReplyEvent =
  | { type: "delta"; text: string }
  | { type: "done"; message: MessageView }
  | { type: "error"; code: string; message: string; partial?: MessageView };
