// What any gateway must do per request, and nothing else: read the client's JSON, ask the upstream
// for a stream through undici, parse its events (eventsource-parser, JSON.parse each), and answer —
// the whole answer as JSON, or each content chunk re-sent as it comes. No auth, routing, limits,
// failover, metering or logging. The throughput bench runs it beside the bare proxy and Parley, so
// RESULTS.md tells the floor of that work from the cost of Parley's own machinery.
// Prints its port as one JSON line. Usage: node minimal-gateway.mjs <upstream base URL>
import http from "node:http";
import { createParser } from "eventsource-parser";
import { Agent, request } from "undici";

const base = process.argv[2];
const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

async function relay(body, res) {
  const up = await request(`${base}/chat/completions`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ model: body.model, stream: true, stream_options: { include_usage: true }, messages: body.messages }),
  });
  let text = "";
  let usage;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === "[DONE]") return;
      const chunk = JSON.parse(ev.data);
      const delta = chunk.choices?.[0]?.delta?.content;
      if (chunk.usage) usage = chunk.usage;
      if (!delta) return;
      if (body.stream) res.write(`data: ${JSON.stringify({ object: "chat.completion.chunk", model: body.model, choices: [{ index: 0, delta: { content: delta } }] })}\n\n`);
      else text += delta;
    },
  });
  if (body.stream) res.writeHead(200, { "content-type": "text/event-stream" });
  const decoder = new TextDecoder();
  for await (const bytes of up.body) parser.feed(decoder.decode(bytes, { stream: true }));
  if (body.stream) return res.end("data: [DONE]\n\n");
  const json = JSON.stringify({ object: "chat.completion", model: body.model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    relay(JSON.parse(Buffer.concat(chunks).toString("utf8")), res).catch(() => res.destroy());
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
