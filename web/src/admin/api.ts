import type { UsageWindow } from "../../../contracts/enums";
import { ADMIN_SEEN_KEY, ApiError, toApiError, type Json } from "../api/client";
import { characterBackend } from "../api/characters";
import type { ApiKeyInput, ApiKeyView } from "../../../contracts/api-keys";
import type {
  HealthView,
  ModelGroups,
  ModelView,
  ProbeResult,
  ProviderView,
  RequestPage,
  ScenarioList,
  ScenarioView,
  UpstreamModel,
  UsageView,
} from "../../../contracts/admin-views";
import type { ModelInput, ProviderInput, ScenarioInput, TaskProfileInput } from "../../../contracts/admin-schemas";

export type ApiKey = Json<ApiKeyView>;

/** A task's profile as the dashboard shows it. */
export type TaskProfile = { task: string; description: string; temperature: number; maxTokens: number; topP: number; updatedAt: string };

export type Provider = Json<ProviderView>;
export type Model = Json<ModelView>;
export type Scenario = Json<ScenarioView>;
export type Health = Json<HealthView>;
export type Usage = Json<UsageView>;
export type Requests = Json<RequestPage>;
export type { ProbeResult, UpstreamModel };

/** The login's CSRF token, sent with every change; kept in memory only, fetched again after a reload. */
let csrfToken: string | undefined;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  // A file goes as it is (a character card); anything else as JSON.
  const file = body instanceof Blob;
  try {
    res = await fetch(`/api/admin${path}`, {
      method,
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": file ? "application/octet-stream" : "application/json" } : {}),
        ...(method !== "GET" && csrfToken ? { "X-CSRF-Token": csrfToken } : {}),
      },
      body: body === undefined ? undefined : file ? body : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network_error", "Parley's server cannot be reached. Check that it is running.");
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return null as T;
  return (await res.json()) as T;
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams(Object.entries(params).filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== "").map(([k, v]) => [k, String(v)]));
  return s.size ? `?${s}` : "";
};

/** The gallery's characters and lorebooks, edited as a person edits their own. */
export const galleryCharacters = characterBackend(call, "/api/admin");

export const admin = {
  async session() {
    const s = await call<{ csrfToken: string; expiresAt: string }>("GET", "/session");
    csrfToken = s.csrfToken;
    localStorage.setItem(ADMIN_SEEN_KEY, "1");
    return s;
  },
  async login(token: string) {
    const s = await call<{ csrfToken: string; expiresAt: string }>("POST", "/login", { token });
    csrfToken = s.csrfToken;
    localStorage.setItem(ADMIN_SEEN_KEY, "1");
    return s;
  },
  async logout() {
    await call("POST", "/logout");
    csrfToken = undefined;
    localStorage.removeItem(ADMIN_SEEN_KEY);
  },

  providers: () => call<{ providers: Provider[] }>("GET", "/providers"),
  createProvider: (p: ProviderInput) => call<{ provider: Provider }>("POST", "/providers", p),
  updateProvider: (id: string, p: Partial<ProviderInput>) => call<{ provider: Provider }>("PATCH", `/providers/${id}`, p),
  deleteProvider: (id: string) => call<{ deleted: string }>("DELETE", `/providers/${id}`),
  testProvider: (id: string) => call<{ result: ProbeResult; provider: Provider }>("POST", `/providers/${id}/test`, {}),
  upstreamModels: (id: string) => call<{ models: UpstreamModel[] }>("GET", `/providers/${id}/upstream-models`),

  models: () => call<Json<ModelGroups>>("GET", "/models"),
  taskProfiles: () => call<{ tasks: TaskProfile[] }>("GET", "/tasks"),
  updateTaskProfile: (task: string, p: TaskProfileInput) => call<{ task: TaskProfile }>("PATCH", `/tasks/${encodeURIComponent(task)}`, p),
  createModel: (m: ModelInput) => call<{ model: Model }>("POST", "/models", m),
  updateModel: (id: string, m: Partial<ModelInput>) => call<{ model: Model }>("PATCH", `/models/${id}`, m),
  moveModel: (id: string, direction: "up" | "down") => call<Json<ModelGroups>>("POST", `/models/${id}/move`, { direction }),
  deleteModel: (id: string) => call<{ deleted: string }>("DELETE", `/models/${id}`),

  scenarios: () => call<Json<ScenarioList>>("GET", "/scenarios"),
  createScenario: (s: ScenarioInput) => call<{ scenario: Scenario }>("POST", "/scenarios", s),
  /** A character card file into the gallery, hidden until published. */
  importCard: (file: Blob) => call<{ scenario: Scenario; alreadyImported: boolean; warnings: string[] }>("POST", "/scenarios/import-card", file),
  updateScenario: (id: string, s: Partial<ScenarioInput>) => call<{ scenario: Scenario }>("PATCH", `/scenarios/${id}`, s),
  deleteScenario: (id: string, withSessions = false) =>
    call<{ deleted: string; sessions: number }>("DELETE", `/scenarios/${id}${withSessions ? "?withSessions=true" : ""}`),

  health: () => call<Health>("GET", "/health"),
  usage: (window: UsageWindow, key?: string) => call<Usage>("GET", `/usage${q({ window, key })}`),
  requests: (f: { status?: string; model?: string; session?: string; key?: string; before?: number }) => call<Requests>("GET", `/requests${q(f)}`),

  keys: () => call<{ keys: ApiKey[] }>("GET", "/keys"),
  /** The answer holds the key's secret: shown once, never again. */
  createKey: (k: ApiKeyInput) => call<{ key: ApiKey; secret: string }>("POST", "/keys", k),
  updateKey: (id: string, k: Partial<ApiKeyInput>) => call<{ key: ApiKey }>("PATCH", `/keys/${id}`, k),
  rotateKey: (id: string) => call<{ key: ApiKey; secret: string }>("POST", `/keys/${id}/rotate`, {}),
  revokeKey: (id: string) => call<{ key: ApiKey }>("POST", `/keys/${id}/revoke`, {}),
};
