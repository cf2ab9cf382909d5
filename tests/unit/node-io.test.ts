import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { clientGone, eventStream, type EventWriter } from "../../server/routes/node-io.js";

/**
 * The writers that talk to Node's response directly, for a client that left while the route
 * still waited (on the model's first event): its connection's "close" came before they were made.
 */
let stop: (() => Promise<void>) | undefined;
afterEach(() => stop?.());

/** A request whose client has gone by the time `handle` runs, with the context a route would have. */
async function afterTheClientLeft<T>(handle: (c: Context) => T | Promise<T>): Promise<T> {
  let result!: Promise<T>;
  const handled = new Promise<void>((resolve) => {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.socket.destroy();
      void once(res, "close").then(() => {
        result = Promise.resolve(handle({ env: { incoming: req, outgoing: res } } as unknown as Context));
        resolve();
      });
    });
    stop = () => new Promise((r) => server.close(() => r()));
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" }).catch(() => {});
    });
  });
  await handled;
  return result;
}

describe("a response whose client left before it was written", () => {
  it("is a cancellation already cancelled", async () => {
    const gone = await afterTheClientLeft((c) => clientGone(c));
    expect(gone.aborted).toBe(true);
  });

  it("is an event stream already aborted, whose writer never waits for a drain that cannot come", async () => {
    const seen: unknown[] = [];
    let ended!: () => void;
    const ran = new Promise<void>((resolve) => (ended = resolve));
    await afterTheClientLeft((c) =>
      eventStream(
        c,
        {},
        async (out: EventWriter) => {
          // Refused at once (undefined), not a promise of a drain.
          seen.push(out.aborted, out.send("hello"));
          ended();
        },
        (err) => {
          throw err;
        },
      ),
    );
    await ran;
    expect(seen).toEqual([true, undefined]);
  });
});
