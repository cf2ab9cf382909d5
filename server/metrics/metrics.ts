import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CircuitState } from "../../contracts/enums.js";
import type { RequestRecord } from "../gateway/types.js";

/** Seconds: from a fast local first token to a long reply. */
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export type MetricsSources = {
  /** Each circuit by `provider/model`, read at scrape time. */
  circuits: () => Record<string, { state: CircuitState }>;
  /** Each worker's last health check, read at scrape time. */
  workers: () => Record<string, { isHealthy: boolean }>;
  /** A Keys-tab key's name by its id (the label; never a secret). */
  keyName: (id: string) => string | undefined;
};

/**
 * Parley's Prometheus metrics (prom-client, its own registry): each finished request by task,
 * model, provider, key and status, with its times, tokens and cost; circuits, workers and
 * rate-limit refusals; and Node's own (event-loop delay, memory, GC).
 */
export function createMetrics(sources: MetricsSources) {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: "parley_" });
  const labels = ["task", "model", "provider", "key"] as const;

  const requests = new Counter({ name: "parley_requests_total", help: "Requests through the gateway, by how they ended", labelNames: [...labels, "status"], registers: [register] });
  const errors = new Counter({ name: "parley_request_errors_total", help: "Requests that failed (no reply, or one cut off); a client leaving is not an error", labelNames: labels, registers: [register] });
  const ttft = new Histogram({ name: "parley_time_to_first_token_seconds", help: "From the request to the first token of the reply", labelNames: labels, buckets: BUCKETS, registers: [register] });
  const total = new Histogram({ name: "parley_request_duration_seconds", help: "From the request to the reply's end", labelNames: labels, buckets: BUCKETS, registers: [register] });
  const tokens = new Counter({ name: "parley_tokens_total", help: "Tokens, prompt and completion", labelNames: [...labels, "kind"], registers: [register] });
  const cost = new Counter({ name: "parley_cost_usd_total", help: "Cost in US dollars, the provider's or the model row's prices", labelNames: labels, registers: [register] });
  const refusals = new Counter({ name: "parley_rate_limit_refusals_total", help: "Requests refused by a rate limit, budget or key limit", labelNames: ["limit"], registers: [register] });
  new Gauge({
    name: "parley_circuit_state",
    help: "Each model's circuit: 0 closed, 1 half-open, 2 open",
    labelNames: ["provider", "model"],
    registers: [register],
    collect() {
      this.reset();
      for (const [key, c] of Object.entries(sources.circuits())) {
        const at = key.indexOf("/");
        this.set({ provider: key.slice(0, at), model: key.slice(at + 1) }, CIRCUIT_VALUE[c.state] ?? 0);
      }
    },
  });
  new Gauge({
    name: "parley_worker_healthy",
    help: "Each local chat worker's last health check: 1 healthy, 0 not",
    labelNames: ["provider"],
    registers: [register],
    collect() {
      this.reset();
      for (const [provider, w] of Object.entries(sources.workers())) this.set({ provider }, w.isHealthy ? 1 : 0);
    },
  });

  /** The key label: a Keys-tab key's name, `env` for PARLEY_API_KEYS, `app` for Parley's own chat. */
  const keyOf = (r: RequestRecord) => (r.apiKeyId ? (sources.keyName(r.apiKeyId) ?? "unknown") : r.clientId?.startsWith("key:") ? "env" : "app");

  return {
    register,
    /** Every finished request, as the gateway records it. */
    observe(r: RequestRecord) {
      const l = { task: r.task, model: r.model ?? "none", provider: r.provider ?? "none", key: keyOf(r) };
      // Each label set a literal of one shape: a spread with a property after it makes a new shape per call.
      requests.inc({ task: l.task, model: l.model, provider: l.provider, key: l.key, status: r.status });
      if (r.status !== "ok" && r.status !== "aborted") errors.inc(l);
      if (r.ttftMs !== undefined) ttft.observe(l, r.ttftMs / 1000);
      total.observe(l, r.totalMs / 1000);
      if (r.promptTokens) tokens.inc({ task: l.task, model: l.model, provider: l.provider, key: l.key, kind: "prompt" }, r.promptTokens);
      if (r.completionTokens) tokens.inc({ task: l.task, model: l.model, provider: l.provider, key: l.key, kind: "completion" }, r.completionTokens);
      if (r.cost) cost.inc(l, r.cost);
    },
    /** A request refused by `limit`: the browser's or /v1's rate, a key's rpm or tpm, its budget. */
    refused(limit: string) {
      refusals.inc({ limit });
    },
    text: () => register.metrics(),
    contentType: register.contentType,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
