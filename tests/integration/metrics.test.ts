import { readFileSync } from "node:fs";
import { parser as promql } from "@prometheus-io/lezer-promql";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayStack, type GatewayStack } from "../support/gateway.js";

/** GET /metrics after known traffic, read by a Prometheus text-format parser: the exact counts. */
const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const ADMIN_TOKEN = "metrics-admin-token-0123456789";

/**
 * The scrape, parsed. The parser folds a labelled histogram's series into one, so histograms are
 * read a second time as plain series (their TYPE lines left out): `name_count{…}` with its labels.
 */
async function scrape(s: GatewayStack) {
  const res = await fetch(`${s.parley.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  const plain = text.split("\n").filter((l) => !/^# TYPE \S+ histogram$/.test(l)).join("\n");
  return { text, families: [...parsePrometheusTextFormat(text), ...parsePrometheusTextFormat(plain).filter((f) => /_(count|sum|bucket)$/.test(f.name))] };
}
const family = (all: MetricFamily[], name: string) => all.find((f) => f.name === name) ?? { name, help: "", type: "", metrics: [] };

/** A Keys-tab key with a rate (made through the admin API), and a /v1 request under it. */
async function keyedChat(s: GatewayStack, name: string, rpm: number) {
  const made = (await (
    await fetch(`${s.parley.url}/api/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name, rpm }),
    })
  ).json()) as { secret: string };
  const chat = () =>
    fetch(`${s.parley.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${made.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "Hi" }] }),
    });
  return { secret: made.secret, chat };
}

describe("Prometheus metrics", () => {
  let s: GatewayStack;
  beforeAll(async () => {
    // A low rate limit: the scrapes below must pass it by.
    s = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-metrics", METRICS_TOKEN, ADMIN_TOKEN, RATE_LIMIT_PER_MIN: "5", RATE_LIMIT_PER_ADDRESS_PER_MIN: "5" });
    s.upstream.setDefault({ kind: "stream", chunks: ["Fine."], usage: { prompt_tokens: 20, completion_tokens: 5, cost: 0.001 } });
  });
  afterAll(() => s?.stop());

  const sample = (all: MetricFamily[], name: string, labels: Record<string, string>) =>
    family(all, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

  it("counts requests, errors, tokens, cost, times and refusals by task, model, provider and key", async () => {
    const made = await keyedChat(s, "metrics-key", 3);
    const chat = made.chat;
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    // A provider's 400 is passed on: an error, no failover.
    s.upstream.enqueue({ kind: "status", status: 400, body: { error: { message: "bad request upstream" } } });
    expect((await chat()).status).toBe(400);
    // Over its three requests a minute: refused before any model is called.
    expect((await chat()).status).toBe(429);

    const all = (await scrape(s)).families;
    const key = { task: "roleplay", key: "metrics-key" };
    expect(sample(all, "parley_requests_total", { ...key, status: "ok" })?.value).toBe("2");
    expect(sample(all, "parley_requests_total", { ...key, status: "ok" })?.labels).toMatchObject({ model: "anthropic/claude-3-haiku", provider: "openrouter" });
    expect(family(all, "parley_request_errors_total").metrics.filter((m) => m.labels?.key === "metrics-key").reduce((n, m) => n + Number(m.value), 0)).toBe(1);
    expect(sample(all, "parley_tokens_total", { ...key, kind: "prompt" })?.value).toBe("40");
    expect(sample(all, "parley_tokens_total", { ...key, kind: "completion" })?.value).toBe("10");
    expect(Number(sample(all, "parley_cost_usd_total", key)?.value)).toBeCloseTo(0.002, 10);
    expect(sample(all, "parley_time_to_first_token_seconds_count", { ...key, model: "anthropic/claude-3-haiku" })?.value).toBe("2");
    expect(sample(all, "parley_request_duration_seconds_count", { ...key, model: "anthropic/claude-3-haiku" })?.value).toBe("2");
    expect(sample(all, "parley_time_to_first_token_seconds_bucket", { ...key, model: "anthropic/claude-3-haiku", le: "+Inf" })?.value).toBe("2");
    expect(sample(all, "parley_rate_limit_refusals_total", { limit: "key_rate" })?.value).toBe("1");
    // Each model's circuit, Node's event-loop delay.
    expect(sample(all, "parley_circuit_state", { provider: "openrouter", model: "anthropic/claude-3-haiku" })?.value).toBe("0");
    expect(family(all, "parley_nodejs_eventloop_lag_p99_seconds").metrics).toHaveLength(1);
    // The key's name labels it; its secret is nowhere.
    const text = await (await fetch(`${s.parley.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(text).not.toContain(made.secret);
  });

  it("answers only the scraper's token, and is never rate limited", async () => {
    expect((await fetch(`${s.parley.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.parley.url}/metrics`, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
    const many = await Promise.all(Array.from({ length: 30 }, () => fetch(`${s.parley.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })));
    expect(many.every((r) => r.status === 200)).toBe(true);
    await Promise.all(many.map((r) => r.text()));
  });
});

/** The Grafana dashboard shipped for operators, checked against what a running Parley exports. */
describe("the Grafana dashboard", () => {
  let s: GatewayStack;
  beforeAll(async () => {
    s = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-metrics", METRICS_TOKEN, ADMIN_TOKEN });
  });
  afterAll(() => s?.stop());
  it("in deploy/grafana: every query parses, on series and labels Parley exports", async () => {
    type Panel = { id: number; title: string; targets: { expr: string }[] };
    const dashboard = JSON.parse(readFileSync(new URL("../../deploy/grafana/parley-gateway.json", import.meta.url), "utf8")) as {
      uid: string;
      panels: Panel[];
      templating: { list: { name: string; query: { query: string } }[] };
    };
    expect(dashboard.uid).toBe("parley-gateway");
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    // Traffic for every labelled family: answers, a failure, a refusal (by a key's rate), so each has series to check against.
    const { chat } = await keyedChat(s, "dashboard-key", 2);
    expect((await chat()).status).toBe(200);
    s.upstream.enqueue({ kind: "status", status: 400, body: { error: { message: "bad request upstream" } } });
    expect((await chat()).status).toBe(400);
    expect((await chat()).status).toBe(429);
    const { families: all, text: declared } = await scrape(s);
    /** A family's label names, from its samples (a histogram's series carry `le` too). */
    const labelsOf = (name: string) => new Set(family(all, name).metrics.flatMap((m) => Object.keys(m.labels ?? {})));
    // Grafana's own variables are not PromQL: given values it could take.
    const asPromql = (q: string) => q.replaceAll("$__rate_interval", "5m").replaceAll("$__range", "6h");
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: asPromql(t.expr) }))),
      // label_values(<selector>, <label>): the selector is PromQL, the label one of its series'.
      ...dashboard.templating.list.map((v) => {
        const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(v.query.query)!;
        return { where: `variable ${v.name}`, expr: `sum by (${label}) (${selector})` };
      }),
    ];
    expect(queries.length).toBeGreaterThan(15);
    for (const { where, expr } of queries) {
      const tree = promql.parse(expr);
      const metrics: string[] = [];
      const grouping: string[] = [];
      tree.iterate({
        enter: (node) => {
          expect(node.type.isError, `${where}: ${expr} does not parse at ${node.from}`).toBe(false);
          const text = expr.slice(node.from, node.to);
          if (node.name === "VectorSelector") {
            const metric = node.node.getChild("Identifier");
            const name = metric ? expr.slice(metric.from, metric.to) : "";
            metrics.push(name);
            expect(declared, `${where}: Parley exports no ${name}`).toContain(`# TYPE ${name.replace(/_(bucket|count|sum)$/, "")} `);
            const labels = labelsOf(name);
            // No local worker runs here: its gauge is declared with no series to check labels against.
            if (name === "parley_worker_healthy") return;
            expect(family(all, name).metrics.length, `${where}: ${name} has no series after the traffic above`).toBeGreaterThan(0);
            for (const matcher of node.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
              const label = matcher.getChild("LabelName")!;
              expect([...labels], `${where}: ${name} has no label ${expr.slice(label.from, label.to)}`).toContain(expr.slice(label.from, label.to));
            }
          }
          if (node.name === "GroupingLabels") grouping.push(...text.replace(/[()\s]/g, "").split(",").filter(Boolean));
        },
      });
      expect(metrics.length, `${where}: ${expr} reads no series`).toBeGreaterThan(0);
      const known = new Set(metrics.flatMap((m) => (m === "parley_worker_healthy" ? ["provider"] : [...labelsOf(m)])));
      for (const label of grouping) expect([...known], `${where}: no series of ${expr} has a label ${label}`).toContain(label);
    }
  });

});
