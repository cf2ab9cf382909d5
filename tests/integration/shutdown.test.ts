import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { asc } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { messages, requestLog } from "../../server/db/schema.js";
import { createSession, readUntil, startParley } from "../support/parley.js";
import { ScriptedUpstream } from "../support/upstream.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "parley-shutdown-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("shutdown", () => {
  it("stores the partial reply of a stream cut by SIGTERM, and the buffered request log, before the database closes", async () => {
    const upstream = await ScriptedUpstream.start();
    upstream.enqueue({ kind: "stream", chunks: ["Half ", "a reply ", "never finished"], holdAfter: 2 });
    const parley = await startParley({
      dataDir,
      // No periodic flush during the test: only shutdown can have written the request_log row.
      env: { OPENROUTER_API_KEY: "sk-or-shutdown", OPENROUTER_BASE_URL: upstream.baseUrl, REQUEST_LOG_FLUSH_MS: "60000" },
    });
    try {
      const c = parley.client();
      const id = await createSession(c);
      const res = await c.fetch(`/api/sessions/${id}/messages`, { method: "POST", body: JSON.stringify({ content: "Tell me." }) });
      await readUntil(res, "a reply");

      await parley.stop(); // SIGTERM, and wait for the process to exit
      expect(parley.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
      await upstream.requests[0]!.closed;
    } finally {
      await upstream.close();
    }

    const db = await openDatabase({ dataDir });
    try {
      const rows = await db.db.select().from(messages).orderBy(asc(messages.seq));
      expect(rows.map((r) => [r.role, r.content, r.finishReason])).toEqual([
        ["assistant", expect.any(String), "opening"],
        ["user", "Tell me.", null],
        ["assistant", "Half a reply ", "aborted"],
      ]);
      const logged = await db.db.select().from(requestLog);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ status: "aborted", provider: "openrouter", task: "roleplay", tokensEstimated: true });
    } finally {
      await db.close();
    }
  });
});
