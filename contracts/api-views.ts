/**
 * What the app's API sends to browsers. Dates are Date objects on the server; a browser receives
 * them as ISO strings through JSON and reads them with `new Date(...)`.
 */
import type { ScenarioInput } from "./admin-schemas.js";
import type { MessageRole } from "./enums.js";
import type { ErrorCode } from "./errors.js";
import type { CardData, CardLorebook } from "./character-card.js";
import type { Persona } from "./persona.js";

/** Everything a browser may see of a scenario. The system prompt is deliberately absent. */
export type PublicScenario = Pick<
  ScenarioInput,
  "slug" | "title" | "characterName" | "description" | "category" | "tags" | "contentRating" | "openingMessage" | "avatarSeed" | "objectives" | "turnLimit" | "difficulty"
> & {
  id: string;
  /** A DiceBear style (contracts/avatar-styles.ts); a row written before a style was retired keeps its word. */
  avatarStyle: string;
};
export type ScenarioSource = "database" | "builtin";

/** A scenario as its chat opens it: the opening message and what else the character may open with (a card's alternate greetings). */
export type ScenarioDetail = PublicScenario & {
  alternateGreetings: string[];
  /** No longer offered (hidden, or a character its owner removed): its conversations go on, no new one starts. */
  withdrawn: boolean;
};

/** One of a person's own characters, with what its card says for people (never sent to the model). */
export type CharacterView = PublicScenario & {
  creator: string;
  creatorNotes: string;
  characterVersion: string;
  /** Greetings beyond the first, offered as swipes of the opening message. */
  alternateGreetings: number;
  lorebookEntries: number;
};

/** One message of a thread, as the chat shows it. */
export type MessageView = {
  id: string;
  /** The message it answers or follows; null for the opening message (and its alternatives). */
  parentId: string | null;
  role: MessageRole;
  content: string;
  /** stop | length | aborted | error | opening | streaming | interrupted (see the messages table). */
  finishReason: string | null;
  provider: string | null;
  model: string | null;
  error: string | null;
  /** Set on a version the person wrote by editing another. */
  editedAt: Date | null;
  /** On a reply: the oldest message its prompt held ("the character does not remember above this line"). */
  contextFromId: string | null;
  createdAt: Date;
  /** For a message with siblings (a reply's swipes, an edit's versions): all of them, itself included, oldest first. */
  siblings?: string[];
};

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
  /** A practice conversation's latest debrief score (0–100); null when it has none. */
  lastScore: number | null;
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
  /** The character is the person's own ("My characters"): they may see what the model saw for each reply. */
  ownCharacter: boolean;
};

/** The server-sent events of a reply, in order: start, delta*, then done or error. */
export type ReplyStartEvent = { userMessage: MessageView | null; provider?: string; model?: string };
export type ReplyEvent =
  | { type: "delta"; text: string }
  | { type: "done"; message: MessageView }
  | { type: "error"; code: ErrorCode; message: string; partial?: MessageView };

/** A lorebook in its owner's list: what it is and where it is used. */
export type LorebookSummaryView = {
  id: string;
  name: string;
  entries: number;
  updatedAt: Date;
  /** The characters whose prompts draw on it; `embedded`: the card it came with (its export carries it). */
  characters: { slug: string; title: string; embedded: boolean }[];
};

/** A lorebook whole, for its editor: the card spec's shape, every field kept. */
export type LorebookView = LorebookSummaryView & { book: CardLorebook };

/** A character of the person's own, whole: its card's fields for its editor, and its lorebooks. */
export type CharacterDefinitionView = CharacterView & {
  card: CardData;
  lorebooks: LorebookSummaryView[];
};
