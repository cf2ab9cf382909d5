import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAIKU, SONNET, startGatewayStack, type GatewayStack } from "../support/gateway.js";

/** OpenTelemetry traces, received by a small OTLP/HTTP receiver the test starts: a span per request, a child per attempt. */
type Attr = { key: string; value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean } };
type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Attr[]; status?: { code?: number } };
type Export = { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: Span[] }[] }[] };

const API_KEY = "sk-parley-traces";
const SECRET_TEXT = "the very private words of this message";

/** Collects what Parley exports; `until` resolves as soon as the spans it waits for have arrived. */
class Receiver {
  readonly bodies: Export[] = [];
  readonly raw: string[] = [];
  private waiters: (() => void)[] = [];
  server!: Server;
  async start() {
    this.server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        if (req.url === "/v1/traces") {
          this.raw.push(body);
          this.bodies.push(JSON.parse(body) as Export);
          for (const w of this.waiters.splice(0)) w();
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  spans = () => this.bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  async until(done: (spans: Span[]) => boolean) {
    while (!done(this.spans())) await new Promise<void>((r) => this.waiters.push(r));
  }
  close = () => new Promise<void>((r) => this.server.close(() => r()));
}

const attr = (s: Span, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : (v?.doubleValue ?? v?.boolValue));
};

describe("OpenTelemetry traces", () => {
  const receiver = new Receiver();
  let s: GatewayStack;
  beforeAll(async () => {
    const endpoint = await receiver.start();
    s = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-traces", PARLEY_API_KEYS: API_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: "20" });
    s.upstream.setDefault({ kind: "stream", chunks: ["Fine."], usage: { prompt_tokens: 12, completion_tokens: 3, cost: 0.0002 } });
  });
  afterAll(async () => {
    await s?.stop();
    await receiver.close();
  });

  it("sends a span per request with a child per attempt, named by model and provider, with status and tokens, and no message", async () => {
    // The first model fails: the second answers.
    s.upstream.enqueue({ kind: "status", status: 500, body: { error: { message: "upstream broke" } } });
    const res = await fetch(`${s.parley.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: SECRET_TEXT }] }),
    });
    expect(res.status).toBe(200);
    await receiver.until((spans) => spans.some((x) => x.name === "gateway roleplay") && spans.filter((x) => x.name.startsWith("attempt ")).length >= 2);

    const root = receiver.spans().find((x) => x.name === "gateway roleplay")!;
    expect(attr(root, "parley.status")).toBe("ok");
    expect(attr(root, "gen_ai.response.model")).toBe(SONNET);
    expect(attr(root, "gen_ai.provider.name")).toBe("openrouter");
    expect(attr(root, "gen_ai.usage.input_tokens")).toBe(12);
    expect(attr(root, "gen_ai.usage.output_tokens")).toBe(3);
    expect(attr(root, "parley.attempts")).toBe(2);
    const children = receiver.spans().filter((x) => x.parentSpanId === root.spanId);
    expect(children.map((c) => [c.name, attr(c, "http.response.status_code")])).toEqual([
      [`attempt openrouter/${HAIKU}`, 500],
      [`attempt openrouter/${SONNET}`, 200],
    ]);
    expect(children.every((c) => c.traceId === root.traceId)).toBe(true);
    expect(children[0]!.status?.code).toBe(2); // ERROR
    expect(BigInt(root.endTimeUnixNano) >= BigInt(children[1]!.endTimeUnixNano)).toBe(true);
    const service = receiver.bodies[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === "service.name");
    expect(service?.value.stringValue).toBe("parley");
    // What was said never leaves in a trace.
    expect(receiver.raw.join("\n")).not.toContain(SECRET_TEXT);
  });
});
