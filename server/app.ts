import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env.js";
import type { ChatService } from "./chat/service.js";
import type { DatabaseLifecycle } from "./db/lifecycle.js";
import type { EnhanceService } from "./chat/enhance.js";
import { AppError, errorBody } from "./errors.js";
import type { Gateway } from "./gateway/gateway.js";
import type { Registry } from "./gateway/registry.js";
import type { Logger } from "./logger.js";
import { accessLog } from "./middleware/access-log.js";
import { clientId } from "./middleware/client-id.js";
import { clientAddress } from "./middleware/client-address.js";
import { rateLimit } from "./middleware/rate-limit.js";
import type { RateLimits } from "./ratelimit/rate-limits.js";
import type { AdminAuth } from "./admin/auth.js";
import { adminRoutes } from "./routes/admin/index.js";
import { avatarRoutes } from "./routes/avatars.js";
import { enhanceRoutes } from "./routes/enhance.js";
import { failureHeaders } from "./routes/gateway-errors.js";
import { openaiRoutes } from "./routes/openai.js";
import { openaiError } from "./openai/protocol.js";
import { healthRoutes, publicConfigRoutes, type LocalWorkerStatus } from "./routes/health.js";
import { scenarioRoutes } from "./routes/scenarios.js";
import { sessionRoutes } from "./routes/sessions.js";
import { webRoutes } from "./routes/web.js";

export type AppDeps = {
  database: DatabaseLifecycle;
  chat: ChatService;
  enhance: EnhanceService;
  gateway: Gateway;
  registry: Registry;
  apiKeys: string[];
  log: Logger;
  maxBodyBytes: number;
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
  trustedProxies: number;
  instanceId: string;
};

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const address = (c: Context) => clientAddress(c, deps.trustedProxies);
  // One budget for every route that calls a model; a client is its credential and its address.
  const requests = { name: "requests", limit: deps.rateLimitPerMin, windowMs: 60_000 };
  const requestLimiter = deps.rateLimits.limiter(requests);
  const limitBrowser = rateLimit(requestLimiter, requests, (c) => `browser:${c.get("clientId")}|${address(c)}`);
  const limitApiKey = rateLimit(requestLimiter, requests, (c) => `v1:${c.get("apiClient")}|${address(c)}`);

  app.onError((err, c) => {
    failureHeaders(c, err);
    if (err instanceof AppError) return c.json(errorBody(err.code, err.message, err.fields), err.status);
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? "body_too_large" : "http_error";
      return c.json(errorBody(code, err.message || "Request failed"), err.status);
    }
    deps.log.error({ err: err.message, stack: err.stack, path: c.req.path }, "unhandled error");
    return c.json(errorBody("internal_error", "Something went wrong on the server"), 500);
  });

  app.use("*", accessLog(deps.log));
  // Defence in depth behind the Markdown renderer: no inline or foreign scripts, ever.
  app.use(
    "*",
    secureHeaders({
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
    }),
  );
  const api = new Hono<AppEnv>();
  api.use(
    "*",
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) =>
        c.json(errorBody("body_too_large", `The request body is larger than ${deps.maxBodyBytes} bytes`), 413),
    }),
  );
  // Only routes that own data need to know who is asking.
  api.use("/sessions/*", clientId); // matches /sessions itself too
  api.use("/enhance", clientId);
  api.route("/health", healthRoutes({ ...deps, rateLimitStatus: () => deps.rateLimits.status() }));
  api.route("/config", publicConfigRoutes(deps));
  api.route("/scenarios", scenarioRoutes(deps));
  api.route("/sessions", sessionRoutes({ ...deps, limit: limitBrowser }));
  api.route("/enhance", enhanceRoutes({ ...deps, limit: limitBrowser }));
  api.route("/admin", adminRoutes({ ...deps, auth: deps.adminAuth, address }));
  // Unknown API paths answer in JSON rather than falling through to the SPA.
  api.all("*", (c) => c.json(errorBody("not_found", `No API route ${c.req.method} ${c.req.path}`), 404));
  app.route("/api", api);

  const v1 = new Hono();
  v1.use(
    "*",
    bodyLimit({
      maxSize: deps.maxBodyBytes * 16, // whole conversations arrive here, not single messages
      onError: (c) => c.json(openaiError(413, "body_too_large", `The request body is larger than ${deps.maxBodyBytes * 16} bytes`), 413),
    }),
  );
  v1.route("/", openaiRoutes({ ...deps, limit: limitApiKey }));
  app.route("/v1", v1);

  app.route("/avatars", avatarRoutes);
  app.route("/", webRoutes(deps.webDir, clientId));
  app.notFound((c) => c.json(errorBody("not_found", "Not found"), 404));
  return app;
}
