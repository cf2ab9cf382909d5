import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayStack, type GatewayStack } from "../support/gateway.js";

/** GET /metrics after known traffic, read by a Prometheus text-format parser: the exact counts. */
const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const ADMIN_TOKEN = "metrics-admin-token-0123456789";

describe("Prometheus metrics", () => {
  let s: GatewayStack;
  beforeAll(async () => {
    // A low rate limit: the scrapes below must pass it by.
    s = await startGatewayStack({ OPENROUTER_API_KEY: "sk-or-metrics", METRICS_TOKEN, ADMIN_TOKEN, RATE_LIMIT_PER_MIN: "5", RATE_LIMIT_PER_ADDRESS_PER_MIN: "5" });
    s.upstream.setDefault({ kind: "stream", chunks: ["Fine."], usage: { prompt_tokens: 20, completion_tokens: 5, cost: 0.001 } });
  });
  afterAll(() => s?.stop());

  /**
   * The scrape, parsed. The parser folds a labelled histogram's series into one, so histograms are
   * read a second time as plain series (their TYPE lines left out): `name_count{…}` with its labels.
   */
  const scrape = async () => {
    const res = await fetch(`${s.parley.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const plain = text.split("\n").filter((l) => !/^# TYPE \S+ histogram$/.test(l)).join("\n");
    return [...parsePrometheusTextFormat(text), ...parsePrometheusTextFormat(plain).filter((f) => /_(count|sum|bucket)$/.test(f.name))];
  };
  const family = (all: MetricFamily[], name: string) => all.find((f) => f.name === name) ?? { name, help: "", type: "", metrics: [] };
  const sample = (all: MetricFamily[], name: string, labels: Record<string, string>) =>
    family(all, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

  it("counts requests, errors, tokens, cost, times and refusals by task, model, provider and key", async () => {
    const made = (await (
      await fetch(`${s.parley.url}/api/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "metrics-key", rpm: 3 }),
      })
    ).json()) as { secret: string };
    const chat = () =>
      fetch(`${s.parley.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${made.secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "parley/roleplay", messages: [{ role: "user", content: "Hi" }] }),
      });
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    // A provider's 400 is passed on: an error, no failover.
    s.upstream.enqueue({ kind: "status", status: 400, body: { error: { message: "bad request upstream" } } });
    expect((await chat()).status).toBe(400);
    // Over its three requests a minute: refused before any model is called.
    expect((await chat()).status).toBe(429);

    const all = await scrape();
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
