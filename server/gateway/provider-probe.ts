import { fetch as undiciFetch } from "undici";
import { agentFor, callCandidate, describeFetchError, redirectError, refusedTarget, type CallTimeouts } from "./upstream-call.js";
import { providerHeaders, upstreamMessage } from "./providers/openai-compatible.js";
import type { AppIdentity } from "./providers/index.js";
import type { ProbeResult, UpstreamModel } from "../../contracts/gateway-status.js";
import type { Candidate, Provider } from "./types.js";

export type { ProbeResult, UpstreamModel };

/**
 * Sends the smallest real request (one token) to one candidate, outside routing: no failover,
 * no breaker, no retries, so what comes back is this provider's own answer.
 */
export async function probeCandidate(c: Candidate, secret: string | undefined, app: AppIdentity, timeouts: CallTimeouts, publicOnly: boolean): Promise<ProbeResult> {
  const started = performance.now();
  const result = await callCandidate({
    candidate: c,
    secret,
    messages: [{ role: "user", content: "Reply with the word OK." }],
    params: { max_tokens: 1, temperature: 0 },
    app,
    timeouts,
    publicOnly,
    signal: AbortSignal.timeout(timeouts.connectMs + timeouts.firstByteMs),
  });
  const latencyMs = Math.round(performance.now() - started);
  if (!result.ok) return { ok: false, status: result.status ?? null, latencyMs, model: c.model.modelKey, error: result.error };
  result.cancel();
  result.release();
  void result.rest.return(undefined).catch(() => {});
  const head = result.first[0]!;
  const reply = head.type === "delta" ? head.text : undefined;
  return { ok: true, status: 200, latencyMs, model: c.model.modelKey, ...(reply ? { reply } : {}) };
}

type ModelsBody = {
  data?: { id?: unknown; name?: unknown; context_length?: unknown; pricing?: { prompt?: unknown; completion?: unknown } }[];
};

/** OpenRouter prices per token, as decimal strings; Parley keeps prices per million tokens. */
const perMtok = (v: unknown): number | null => {
  const n = typeof v === "string" || typeof v === "number" ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1e6 * 1e6) / 1e6 : null;
};

/** The provider's `GET /models`, for an admin to pick from. Throws with a readable reason when it cannot be read. */
export async function listUpstreamModels(p: Provider, secret: string | undefined, app: AppIdentity, timeoutMs: number, publicOnly: boolean): Promise<UpstreamModel[]> {
  const url = `${p.baseUrl}/models`;
  const refused = refusedTarget(url, publicOnly);
  if (refused) throw new Error(`${p.displayName} cannot be reached: ${refused}`);
  let res: Awaited<ReturnType<typeof undiciFetch>>;
  try {
    res = await undiciFetch(url, {
      headers: providerHeaders(p, secret, app, "application/json"),
      signal: AbortSignal.timeout(timeoutMs),
      dispatcher: agentFor(Math.min(timeoutMs, 10_000), publicOnly),
      redirect: "manual",
    });
  } catch (err) {
    throw new Error(`${p.displayName} cannot be reached: ${(err as Error).name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : describeFetchError(err)}`);
  }
  if (res.status >= 300 && res.status < 400) throw new Error(`${p.displayName}: ${redirectError(res.status)}`);
  const text = await res.text().catch(() => "");
  if (!res.ok) throw new Error(`${p.displayName} answered ${res.status}: ${upstreamMessage(text) ?? (res.statusText || "no reason given")}`);
  let body: ModelsBody;
  try {
    body = JSON.parse(text) as ModelsBody;
  } catch {
    throw new Error(`${p.displayName}'s /models is not JSON`);
  }
  if (!Array.isArray(body.data)) throw new Error(`${p.displayName}'s /models has no "data" list`);
  return body.data
    .filter((m) => typeof m.id === "string" && m.id.length > 0)
    .map((m) => ({
      id: m.id as string,
      name: typeof m.name === "string" && m.name ? m.name : (m.id as string),
      contextLength: typeof m.context_length === "number" && m.context_length > 0 ? m.context_length : null,
      inputPricePerMtok: perMtok(m.pricing?.prompt),
      outputPricePerMtok: perMtok(m.pricing?.completion),
    }));
}
