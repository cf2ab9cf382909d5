/**
 * The scripted upstream in a process of its own, so the load generator and the servers measured do
 * not share its thread. Prints `{"port"}` once listening; takes commands on stdin, one JSON line each:
 * `{"setDefault": Script}`, `{"forModel": [model, Script, count]}`, `{"byModel": true}` (requests per model since the last clear),
 * `{"clear": true}` (forgets the recorded requests, which would otherwise grow without bound).
 */
import { createInterface } from "node:readline";
import { ScriptedUpstream, type Script } from "../../tests/support/upstream.js";

const upstream = await ScriptedUpstream.start();
console.log(JSON.stringify({ port: upstream.port }));

type Command = { setDefault?: Script; forModel?: [string, Script, number]; byModel?: true; clear?: true };
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Command;
  if (cmd.setDefault) upstream.setDefault(cmd.setDefault);
  if (cmd.forModel) upstream.forModel(cmd.forModel[0], ...Array.from({ length: cmd.forModel[2] }, () => cmd.forModel![1]));
  if (cmd.clear) upstream.requests.length = 0;
  const byModel: Record<string, number> = {};
  if (cmd.byModel) for (const r of upstream.requests) byModel[r.body.model] = (byModel[r.body.model] ?? 0) + 1;
  console.log(JSON.stringify({ ok: true, requests: upstream.requests.length, byModel }));
}
