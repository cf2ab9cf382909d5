import { Hono, type Context, type MiddlewareHandler } from "hono";
import { compress } from "hono/compress";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env.js";
import type { ChatService } from "./chat/service.js";
import type { DatabaseLifecycle } from "./db/lifecycle.js";
import { databaseFailureError } from "./db/failures.js";
import { errorFieldsWithStack } from "./error-report.js";
import type { EnhanceService } from "./chat/enhance.js";
import { AppError, badRequest, errorBody } from "./errors.js";
import type { Gateway } from "./gateway/gateway.js";
import type { Registry } from "./gateway/registry.js";
import type { Logger } from "./logger.js";
import { accessLog } from "./middleware/access-log.js";
import { clientId, knownClient, type ClientIds } from "./middleware/client-id.js";
import { clientAddress, requestIsHttps } from "./middleware/client-address.js";
import { sameOriginChanges } from "./middleware/same-origin.js";
import { rateLimit } from "./middleware/rate-limit.js";
import type { RateLimits } from "./ratelimit/rate-limits.js";
import type { AdminAuth } from "./admin/auth.js";
import type { FailedLogins } from "./admin/failed-logins.js";
import { adminRoutes } from "./routes/admin/index.js";
import { avatarRoutes } from "./routes/avatars.js";
import { enhanceRoutes } from "./routes/enhance.js";
import { characterRoutes } from "./routes/characters.js";
import type { CharacterService } from "./chat/characters.js";
import type { LorebookService } from "./chat/lorebooks.js";
import type { PracticeService } from "./chat/practice.js";
import type { ApiKeys } from "./api-keys/api-keys.js";
import type { Metrics } from "./metrics/metrics.js";
import { metricsRoute } from "./routes/metrics.js";
import { lorebookRoutes } from "./routes/lorebooks.js";
import { MAX_LOREBOOK_BYTES } from "./cards/lorebook-formats.js";
import { MAX_CARD_BYTES } from "./cards/card-file.js";
import { failureHeaders } from "./routes/routing-headers.js";
import { openaiRoutes, v1Headers } from "./routes/openai.js";
import { refuseBody, requestHeader, writtenStraight } from "./routes/node-io.js";
import { bodyTooLarge } from "./routes/validation.js";
import { healthRoutes, publicConfigRoutes, type LocalWorkerStatus } from "./routes/health.js";
import { scenarioRoutes } from "./routes/scenarios.js";
import { personaRoutes } from "./routes/persona.js";
import { sessionRoutes } from "./routes/sessions.js";
import { webRoutes } from "./routes/web.js";

export type AppDeps = {
  database: DatabaseLifecycle;
  chat: ChatService;
  enhance: EnhanceService;
  characters: CharacterService;
  lorebooks: LorebookService;
  practice: PracticeService;
  gateway: Gateway;
  registry: Registry;
  apiKeys: ApiKeys;
  metrics: Metrics;
  /** Bearer token for GET /metrics; unset, /metrics answers 404. */
  metricsToken: string | undefined;
  log: Logger;
  maxBodyBytes: number;
  /** The largest chat file an import takes (MAX_IMPORT_BYTES). */
  maxImportBytes: number;
  maxMessageChars: number;
  webDir: string;
  version: string;
  startedAt: number;
  localWorker: () => LocalWorkerStatus | null;
  adminAuth: AdminAuth;
  adminSessionMs: number;
  reloadRegistry: () => Promise<void>;
  rateLimits: RateLimits;
  rateLimitPerMin: number;
  rateLimitPerAddressPerMin: number;
  trustedProxies: number;
  clientIds: ClientIds;
  failedLogins: FailedLogins;
  appUrl: string;
  secretNameProblem: (name: string) => string | undefined;
  allowPrivateUpstreams: boolean;
  instanceId: string;
};

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const address = (c: Context) => clientAddress(c, deps.trustedProxies);
  const isHttps = (c: Context) => requestIsHttps(c, deps.trustedProxies);
  const identify = clientId(deps.clientIds, isHttps);
  const appHost = new URL(deps.appUrl).host.toLowerCase();
  const ownHosts = (c: Context) => {
    const hosts = [appHost, (c.req.header("host") ?? "").toLowerCase()];
    const forwarded = deps.trustedProxies > 0 ? c.req.header("x-forwarded-host")?.split(",").at(-1)?.trim().toLowerCase() : undefined;
    return forwarded ? [...hosts, forwarded] : hosts;
  };

  // One budget for every route that calls a model; a client is its (signed) cookie and its address.
  // Beside it, a looser one per address: a client id is free to get (load a page), so an address
  // collecting many would otherwise have as many budgets.
  const requests = { name: "requests", limit: deps.rateLimitPerMin, windowMs: 60_000 };
  const perAddress = { name: "address", limit: deps.rateLimitPerAddressPerMin, windowMs: 60_000 };
  const creations = { name: "session-creations", limit: deps.rateLimitPerMin, windowMs: 60_000 };
  const addressLimit = { limiter: deps.rateLimits.limiter(perAddress), policy: perAddress, key: (c: Context) => `address:${address(c)}` };
  const refused = (policy: string) => deps.metrics.refused(policy);
  const limitBrowser = rateLimit(
    [{ limiter: deps.rateLimits.limiter(requests), policy: requests, key: (c) => `browser:${c.get("clientId")}|${address(c)}` }, addressLimit],
    undefined,
    refused,
  );
  const limitCreate = rateLimit(
    [{ limiter: deps.rateLimits.limiter(creations), policy: creations, key: (c) => `browser:${c.get("clientId")}|${address(c)}` }, addressLimit],
    undefined,
    refused,
  );
  const limitApiKey = rateLimit(
    [{ limiter: deps.rateLimits.limiter(requests), policy: requests, key: (c) => `v1:${c.get("apiClient")}|${address(c)}` }],
    v1Headers,
    refused,
  );

  const onError = (err: Error, c: Context) => {
    failureHeaders(c, err);
    if (err instanceof AppError) return c.json(errorBody(err.code, err.message, err.fields), err.status);
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? "body_too_large" : "http_error";
      return c.json(errorBody(code, err.message || "Request failed"), err.status);
    }
    const dbFailure = deps.database.noteFailure(err);
    if (dbFailure) {
      const e = databaseFailureError(dbFailure, err);
      c.header("Retry-After", "5");
      return c.json(errorBody(e.code, e.message), e.status);
    }
    deps.log.error({ ...errorFieldsWithStack(err), path: c.req.path }, "unhandled error");
    return c.json(errorBody("internal_error", "Something went wrong on the server"), 500);
  };
  app.onError(onError);

  const logged = accessLog(deps.log);
  // Postgres text cannot hold NUL: an address carrying one (a slug, a filter) is refused before any query.
  const refuseNul: MiddlewareHandler = async (c, next) => {
    if (/%00|\u0000/.test(c.req.url)) throw badRequest("invalid_characters", "The address contains a NUL character (%00)");
    await next();
  };
  app.use("*", logged, refuseNul);
  // The OpenAI-compatible API is mounted before the page headers below: its answers are JSON and
  // event streams for programs, written straight to Node's response (routes/node-io.ts) with the
  // headers they need, and its body limit is the route's own.
  // Prometheus scrapes here, with its own token, off every rate limit.
  app.route("/metrics", metricsRoute(deps));
  const openai = openaiRoutes({ ...deps, limit: limitApiKey, maxBodyBytes: deps.maxBodyBytes * 16 });
  app.route("/v1", openai);
  // The same API in an app of its own, which the server hands /v1 requests to first: every gateway
  // request would otherwise be matched against all of the web app's routes and pass the page's
  // middleware (most of Hono's share of a /v1 request, on the path to every first token).
  const v1 = new Hono<AppEnv>();
  v1.onError(onError);
  v1.use("*", logged, refuseNul);
  v1.route("/v1", openai);
  // Defence in depth behind the Markdown renderer: no inline or foreign scripts, ever.
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
    },
    crossOriginResourcePolicy: "same-origin",
    strictTransportSecurity: false,
  });
  // An SVG opened on its own is a document: it gets nothing at all to run or load.
  const avatarHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"] },
    crossOriginResourcePolicy: "same-origin",
    strictTransportSecurity: false,
  });
  app.use("*", async (c, next) => {
    await next();
    // A reply streamed straight to Node's response (routes/node-io.ts) has sent its headers already.
    if (writtenStraight(c)) return;
    await (c.req.path.startsWith("/avatars/") ? avatarHeaders : pageHeaders)(c, async () => {});
    // HSTS means something only over TLS; sent over plain HTTP it is ignored at best.
    if (isHttps(c)) c.header("Strict-Transport-Security", "max-age=15552000; includeSubDomains");
  });
  // JSON and SVG gzipped for browsers that take it (event streams never: they must not be buffered).
  const compressed = compress({ encoding: "gzip" });
  app.use("/api/*", compressed);
  app.use("/avatars/*", compressed);
  const api = new Hono<AppEnv>();
  // Bodies are read from Node's request by readJson, which refuses one past the route's limit;
  // a body declared too large is refused here, before anything else is asked of the request.
  const limitBody =
    (maxSize: number): MiddlewareHandler<AppEnv> =>
    (c, next) => {
      if (Number(requestHeader(c, "content-length") ?? 0) > maxSize) return refuseBody(c, 0, () => bodyTooLarge(maxSize));
      c.set("maxBodyBytes", maxSize);
      return next();
    };
  const messageBody = limitBody(deps.maxBodyBytes);
  // An imported chat is a whole story, not one message.
  const importBody = limitBody(deps.maxImportBytes);
  // A card file carries its art (and a CHARX its assets); it is the body itself, not JSON.
  const cardBody = limitBody(MAX_CARD_BYTES);
  const CARD_UPLOADS = new Set(["/api/characters", "/api/admin/scenarios/import-card"]);
  // A lorebook file, or a whole book saved from its editor.
  const lorebookBody = limitBody(MAX_LOREBOOK_BYTES);
  const LOREBOOK_PATH = /^\/api\/(admin\/)?lorebooks(\/[^/]+)?$/;
  api.use("*", (c, next) => {
    if ((c.req.method === "POST" || c.req.method === "PUT") && LOREBOOK_PATH.test(c.req.path)) return lorebookBody(c, next);
    if (c.req.method !== "POST") return messageBody(c, next);
    if (c.req.path === "/api/sessions/import") return importBody(c, next);
    if (CARD_UPLOADS.has(c.req.path)) {
      c.set("binaryBody", true);
      return cardBody(c, next);
    }
    return messageBody(c, next);
  });
  api.use("*", sameOriginChanges(ownHosts));
  // Only routes that own data need to know who is asking.
  api.use("/sessions/*", identify); // matches /sessions itself too
  api.use("/enhance", identify);
  api.use("/persona", identify);
  api.use("/characters/*", identify); // matches /characters itself too
  api.use("/lorebooks/*", identify);
  // A person's own character is found by its slug only with their cookie (never minted here).
  api.use("/scenarios/*", knownClient(deps.clientIds));
  api.use("/lorebooks/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  api.use("/characters/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  // What a person's sessions hold is theirs alone: never kept by a cache.
  api.use("/persona", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  api.use("/sessions/*", async (c, next) => {
    await next();
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  api.use("/admin/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  api.route("/health", healthRoutes({ ...deps, rateLimitStatus: () => deps.rateLimits.status() }));
  api.route("/config", publicConfigRoutes(deps));
  api.route("/scenarios", scenarioRoutes(deps));
  api.route("/sessions", sessionRoutes({ ...deps, limit: limitBrowser, limitCreate }));
  api.route("/persona", personaRoutes(deps));
  api.route("/characters", characterRoutes({ characters: deps.characters, limitCreate }));
  api.route("/lorebooks", lorebookRoutes({ lorebooks: deps.lorebooks, owner: (c) => (c as Context<AppEnv>).var.clientId, limitCreate }));
  api.route("/enhance", enhanceRoutes({ ...deps, limit: limitBrowser }));
  api.route("/admin", adminRoutes({ ...deps, auth: deps.adminAuth, address, isHttps }));
  // Unknown API paths answer in JSON rather than falling through to the SPA.
  api.all("*", (c) => c.json(errorBody("not_found", `No API route ${c.req.method} ${c.req.path}`), 404));
  app.route("/api", api);


  app.route("/avatars", avatarRoutes);
  app.route("/", webRoutes(deps.webDir, identify));
  app.notFound((c) => c.json(errorBody("not_found", "Not found"), 404));
  return {
    /** For @hono/node-server: a request whose target starts with /v1/ goes to the API's own app. */
    fetch: (request: Request, env: unknown) => {
      const target = (env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
      return target?.startsWith("/v1/") ? v1.fetch(request, env) : app.fetch(request, env);
    },
  };
}
