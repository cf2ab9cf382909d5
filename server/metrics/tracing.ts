import type { RequestRecord } from "../gateway/types.js";

/**
 * OpenTelemetry traces of gateway requests, when OTEL_EXPORTER_OTLP_ENDPOINT is set (the official
 * SDK, OTLP over HTTP): one span per request, from its start to its end, with a child per attempt
 * (each provider and model tried, in order, with how it answered). Attributes name the task, model,
 * provider, status, tokens and cost — never a message. Spans are made from the request's record
 * when it ends, so the gateway does nothing for tracing while a request runs; the SDK is loaded
 * only when an endpoint is set.
 */
export type Tracing = { record(r: RequestRecord): void; shutdown(): Promise<void> };

export async function startTracing(opts: { endpoint: string; serviceName: string; version: string; instanceId: string }): Promise<Tracing> {
  const [{ trace, context, SpanKind, SpanStatusCode }, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": opts.serviceName, "service.version": opts.version, "service.instance.id": opts.instanceId }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, "")}/v1/traces` }))],
  });
  const tracer = provider.getTracer("parley-gateway", opts.version);

  return {
    record(r) {
      const start = r.at.getTime();
      const root = tracer.startSpan(`gateway ${r.task}`, {
        kind: SpanKind.INTERNAL,
        startTime: start,
        attributes: {
          "parley.task": r.task,
          "parley.status": r.status,
          ...(r.requestedModel ? { "gen_ai.request.model": r.requestedModel } : {}),
          ...(r.model ? { "gen_ai.response.model": r.model } : {}),
          ...(r.provider ? { "gen_ai.provider.name": r.provider } : {}),
          "gen_ai.usage.input_tokens": r.promptTokens,
          "gen_ai.usage.output_tokens": r.completionTokens,
          "parley.tokens_estimated": r.tokensEstimated,
          ...(r.cost !== null ? { "parley.cost_usd": r.cost } : {}),
          ...(r.ttftMs !== undefined ? { "parley.ttft_ms": r.ttftMs } : {}),
          "parley.attempts": r.attempts.length,
        },
      });
      if (r.status !== "ok" && r.status !== "aborted") root.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? r.status });
      // Attempts ran one after another: each starts where the last ended.
      const parent = trace.setSpan(context.active(), root);
      let at = start;
      for (const [i, a] of r.attempts.entries()) {
        const span = tracer.startSpan(
          `attempt ${a.provider}/${a.model}`,
          {
            kind: SpanKind.CLIENT,
            startTime: at,
            attributes: {
              "parley.attempt": i + 1,
              "gen_ai.provider.name": a.provider,
              "gen_ai.request.model": a.model,
              ...(a.status !== undefined ? { "http.response.status_code": a.status } : {}),
              ...(a.error ? { "error.type": a.error.slice(0, 200) } : {}),
            },
          },
          parent,
        );
        const failed = a.error !== undefined || (a.status !== undefined && a.status >= 400);
        if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: a.error ?? `HTTP ${a.status}` });
        at += a.ms;
        span.end(at);
      }
      root.end(start + r.totalMs);
    },
    shutdown: () => provider.shutdown(),
  };
}
