import { Hono, type Context, type MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";
import type { Gateway } from "../gateway/gateway.js";
import type { Registry } from "../gateway/registry.js";
import type { Logger } from "../logger.js";
import { chatCompletionRequest, completion, completionId, completionStream, openaiError, toGatewayInput } from "../../contracts/openai.js";
import { rethrow } from "./gateway-errors.js";
import { failureHeaders, routingHeaderValues } from "./routing-headers.js";
import { clientGone, eventStream, readBodyText, requestHeader, writeJson, type EventWriter } from "./node-io.js";
import type { HeaderSink } from "../middleware/rate-limit.js";
import { bodyTooLarge, parseJson } from "./validation.js";
import { errorFields, errorFieldsWithStack } from "../error-report.js";
import { KeyLimitError, type ApiKeys, type KeyAccess } from "../api-keys/api-keys.js";
import type { RequestRecord } from "../gateway/types.js";
import type { Metrics } from "../metrics/metrics.js";
import { merge } from "../merge.js";

export type V1Env = {
  Variables: {
    apiClient: string;
    /** The key the request came with: a Keys-tab row with its limits, or one of PARLEY_API_KEYS. */
    access: KeyAccess;
    /** Headers for the response the route writes itself (the rate limiter's, set before it runs). */
    headers?: Record<string, string>;
  };
};

/** Where the rate limiter leaves its headers on /v1: for the route's own writer (routes/node-io.ts). */
export const v1Headers: HeaderSink = (c, headers) => {
  const v1 = c as Context<V1Env>;
  v1.set("headers", merge(v1.get("headers") ?? {}, headers));
};

/** A task alias: `parley/roleplay` routes to the task's models like the app's own chat does. */
const TASK_ALIAS = /^parley\/([a-z0-9_-]+)$/;

/**
 * The gateway as an OpenAI-compatible API, for other clients. Keys are rows of the Keys tab (with
 * what they may use, their rates and budgets) or PARLEY_API_KEYS (no limits); a request is logged
 * under its key's row (its name, in the dashboard) or a fingerprint, never the secret.
 */
export function openaiRoutes(deps: {
  gateway: Gateway;
  registry: Registry;
  apiKeys: ApiKeys;
  metrics: Pick<Metrics, "refused">;
  log: Logger;
  limit: MiddlewareHandler<V1Env>;
  /** The largest request body (whole conversations arrive here, not single messages). */
  maxBodyBytes: number;
}) {
  const app = new Hono<V1Env>();
  // Made once, not in the route: a closure there would name the context, and keep it (and its
  // request) alive for as long as the route's stream is open.
  const tooLarge = () => bodyTooLarge(deps.maxBodyBytes);

  app.onError((err, c) => {
    // An error is a response Hono builds: it carries what the route would have written itself.
    for (const [k, v] of Object.entries({ "X-Content-Type-Options": "nosniff", ...c.get("headers") })) c.header(k, v);
    failureHeaders(c, err);
    if (err instanceof KeyLimitError) {
      deps.metrics.refused(err.code === "insufficient_quota" ? "key_budget" : "key_rate");
      if (err.retryAfterS !== undefined) c.header("Retry-After", String(err.retryAfterS));
    }
    if (err instanceof AppError) return c.json(openaiError(err.status, err.code, err.message), err.status);
    deps.log.error(merge(errorFieldsWithStack(err), { path: c.req.path }), "unhandled error");
    return c.json(openaiError(500, "internal_error", "Something went wrong on the server"), 500);
  });
  app.notFound((c) => c.json(openaiError(404, "not_found", `No route ${c.req.method} ${c.req.path}`), 404));

  app.use("*", async (c, next) => {
    const header = requestHeader(c, "authorization") ?? "";
    const access = deps.apiKeys.authenticate(/^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim());
    c.set("access", access);
    c.set("apiClient", access.client);
    await next();
  });

  app.get("/models", (c) => {
    const created = 0;
    const seen = new Set<string>();
    const models = deps.registry
      .activeModels()
      .filter((m) => !seen.has(m.model.modelKey) && seen.add(m.model.modelKey))
      .map((m) => ({ id: m.model.modelKey, object: "model", created, owned_by: m.provider.name, name: m.model.displayName, context_length: m.model.contextLength }));
    const aliases = deps.registry.tasks().map((t) => ({ id: `parley/${t}`, object: "model", created, owned_by: "parley", name: `Parley: best model for ${t}` }));
    return c.json({ object: "list", data: [...aliases, ...models] });
  });

  app.post("/chat/completions", deps.limit, async (c) => {
    const text = await readBodyText(c, deps.maxBodyBytes, tooLarge);
    const body = parseJson(text, chatCompletionRequest);
    const alias = TASK_ALIAS.exec(body.model)?.[1];
    if (alias && !deps.registry.tasks().includes(alias)) {
      throw new AppError(404, "model_not_found", `No task "${alias}": use one of ${deps.registry.tasks().map((t) => `parley/${t}`).join(", ")}`);
    }
    const named = alias ? undefined : deps.registry.findModel(body.model);
    if (!alias && !named) {
      throw new AppError(404, "model_not_found", `The model "${body.model}" does not exist or is switched off; GET /v1/models lists them`);
    }
    const { messages, raw, needs, params } = toGatewayInput(body);
    // c.get, not c.var: Hono builds c.var anew from its map at every read.
    const access = c.get("access");
    const task = alias ?? named!.task;
    // What the key may use, its rates and its budget: refused here, before any upstream is called.
    await deps.apiKeys.admit(access, { task, model: alias ? undefined : body.model });
    const request = {
      task: alias ?? "roleplay",
      model: alias ? undefined : body.model,
      messages,
      // The client's messages go to the provider as written (parts with cache_control, tool calls and answers).
      rawMessages: raw,
      needs,
      params,
      signal: clientGone(c),
      meta: { clientId: c.get("apiClient"), ...(access.kind === "row" ? { apiKeyId: access.key.id } : {}) },
      ...(access.kind === "row" && access.key.allowedModels.length ? { allowModels: access.key.allowedModels } : {}),
    };
    // Charged from the request's real cost and tokens when it ends (before its last byte, so the
    // key's next request sees it), however it ends; once.
    let charged: Promise<void> | undefined;
    const charge = (record: RequestRecord) => (charged ??= deps.apiKeys.charge(access, record));
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      const done = await deps.gateway.complete(request).catch(rethrow);
      await charge(done.record);
      const headers = merge(c.get("headers") ?? {}, routingHeaderValues(done.candidate, done.attempts));
      if (done.record.status === "error") {
        return writeJson(c, 502, headers, openaiError(502, "upstream_error", done.record.error ?? "The model failed mid-reply"));
      }
      return writeJson(c, 200, headers, completion(id, created, done.candidate.model.modelKey, done.record));
    }

    const open = await deps.gateway.openStream(request).catch(rethrow);
    // A client that leaves mid-stream is charged for what was generated until then.
    void open.record.then(charge, () => {});
    const model = open.candidate.model.modelKey;
    const relay = async (out: EventWriter) => {
      // A batch's events are framed into one string and written once: each write of its own costs a
      // buffered socket write, a chunk header and an iovec (more than framing the event itself).
      let framed = "";
      const stream = completionStream((data) => void (framed += `data: ${data}\n\n`), id, created, model);
      const flush = () => {
        const text = framed;
        framed = "";
        return out.sendFramed(text);
      };
      try {
        // The role's chunk goes out with the first batch (already read when the stream opened).
        void stream.start();
        for await (const batch of open.batches) {
          if (out.aborted) break;
          for (const ev of batch) {
            if (ev.type === "delta") void stream.delta(ev.text);
            else if (ev.type === "tool_calls") void stream.toolCalls(ev.calls);
            else if (ev.type === "reasoning") void stream.reasoning(ev.text);
          }
          // Awaited only when the client cannot take more (most writes go out at once).
          const wait = flush();
          if (wait) await wait;
        }
        if (out.aborted) return;
        const record = await open.record;
        await charge(record);
        const error = record.status === "error" ? { code: 502, message: record.error ?? "The model failed mid-reply" } : undefined;
        await stream.end(record, { error, usage: true });
        await flush();
      } catch (err) {
        deps.log.error(errorFields(err), "v1 stream failed");
      } finally {
        // Leaving early (the client gone) ends the gateway's stream too, so it records the request.
        await open.batches.return(undefined).catch(() => {});
      }
    };
    return eventStream(c, merge(c.get("headers") ?? {}, routingHeaderValues(open.candidate, open.attempts)), relay, (err) =>
      deps.log.error(errorFields(err), "v1 stream failed"),
    );
  });

  // Any other path or method, with a valid key: OpenAI's JSON 404, never the web app's page.
  app.all("*", (c) => c.json(openaiError(404, "not_found", `No route ${c.req.method} ${c.req.path}`), 404));

  return app;
}

