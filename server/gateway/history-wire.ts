/**
 * A conversation's history as request bytes, kept from one reply to the next. A long story sends
 * ~2,000 history messages on every reply; taking each one's JSON and copying it into the body
 * message by message cost ~0.5 ms a reply. Here the history's JSON is one growing buffer per
 * thread (messages joined by commas), so a prompt's history is one copy out of it.
 *
 * A prompt marks the stretch of its messages that is history (`markHistory`); the body's writer
 * asks for that stretch's bytes (`historyBytes`). Only frozen messages are kept: they cannot change
 * under their bytes.
 */

/** Messages `at` … `at + count − 1` of a prompt are `source[from]` … of a thread's history, in order. */
export type HistoryStretch = { at: number; count: number; source: readonly object[]; from: number };

const STRETCH = Symbol("history stretch");

/** Marks a prompt's history stretch, for the body's writer; a prompt copied or changed after loses the mark (and is written message by message). */
export function markHistory<T extends object>(messages: T[], stretch: HistoryStretch): T[] {
  if (stretch.count > 0) Object.defineProperty(messages, STRETCH, { value: stretch });
  return messages;
}

export function historyStretchOf(messages: readonly unknown[]): HistoryStretch | undefined {
  return (messages as { [STRETCH]?: HistoryStretch })[STRETCH];
}

/**
 * One thread's history bytes: `messages[i]`'s JSON and a comma at `starts[i]`; `starts` has one
 * more entry, where the next would go. A thread's window slides down as it grows (its oldest
 * messages left out), so a prompt's history is found by its first message, wherever it sits.
 */
type Wire = { messages: object[]; starts: number[]; bytes: Buffer };

/** Each message held → the wire holding it. A wire lives while one of its messages does (the chat's path cache keeps them). */
const wireOf = new WeakMap<object, Wire>();

/** Messages serialised before the event loop gets a turn (~2 ms of work). */
const SERIALISE_BETWEEN_TURNS = 400;

/**
 * The JSON of `source[from]` … `source[to − 1]`, joined by commas: made only for messages the
 * thread's wire does not hold yet. Undefined when a message is not frozen (it could change under
 * its bytes). Only the same thread's fits write to its wire, and a thread has one reply at a time;
 * whatever a fit finds there is checked against its own messages first.
 */
export async function historyBytes(source: readonly object[], from: number, to: number): Promise<Uint8Array | undefined> {
  const first = source[from];
  if (!first || to <= from) return undefined;
  let wire = wireOf.get(first);
  let at = wire ? wire.messages.indexOf(first) : -1;
  if (!wire || at < 0) {
    wire = { messages: [], starts: [0], bytes: EMPTY };
    at = 0;
  } else if (at > 0 && at >= wire.messages.length / 2) {
    // Most of what the wire holds has slid out of the window: what is left moves to the front.
    wire = compacted(wire, at);
    at = 0;
  }
  // Held and the same up to the first message that differs (a swipe or an edit further up); from
  // there on it is written anew.
  const count = to - from;
  let same = 0;
  while (same < count && at + same < wire.messages.length && wire.messages[at + same] === source[from + same]) same++;
  if (same < count && at + same < wire.messages.length) {
    wire.messages.length = at + same;
    wire.starts.length = at + same + 1;
  }
  for (let i = same; i < count; i++) {
    const m = source[from + i]!;
    if (!Object.isFrozen(m)) return undefined;
    const json = Buffer.from(`${JSON.stringify(m)},`);
    const end = wire.starts.at(-1)!;
    if (end + json.length > wire.bytes.length) {
      // Room for a few more replies' messages, so most replies append without copying the rest.
      const grown = Buffer.allocUnsafeSlow(Math.max(64 * 1024, Math.ceil((end + json.length) * 1.5)));
      wire.bytes.copy(grown, 0, 0, end);
      wire.bytes = grown;
    }
    json.copy(wire.bytes, end);
    wire.messages.push(m);
    wire.starts.push(end + json.length);
    wireOf.set(m, wire);
    // A long story's first reply writes a couple of thousand messages: other streams get a turn between stretches.
    if ((i + 1) % SERIALISE_BETWEEN_TURNS === 0) {
      const held = wire.messages.length;
      await new Promise((resolve) => setImmediate(resolve));
      if (wire.messages.length !== held) return undefined;
    }
  }
  // Without the comma after the last.
  return wire.bytes.subarray(wire.starts[at]!, wire.starts[at + count]! - 1);
}

/** The wire from message `at` on, in memory of its own; the messages before it find no wire (and are written anew if they come back). */
function compacted(wire: Wire, at: number): Wire {
  const offset = wire.starts[at]!;
  const used = wire.starts.at(-1)! - offset;
  const bytes = Buffer.allocUnsafeSlow(Math.max(64 * 1024, Math.ceil(used * 1.5)));
  wire.bytes.copy(bytes, 0, offset, offset + used);
  const moved: Wire = { messages: wire.messages.slice(at), starts: wire.starts.slice(at).map((s) => s - offset), bytes };
  for (const m of moved.messages) wireOf.set(m, moved);
  return moved;
}

const EMPTY = Buffer.alloc(0);
