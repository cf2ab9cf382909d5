import { USAGE_WINDOWS, type UsageWindow } from "../../../contracts/enums";
import { Fragment, useCallback, useEffect, useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useApiError } from "./AdminApp";
import { Alert } from "./useResource";
import { admin, type ApiKey, type Requests, type Usage } from "./api";
import { AdminTable } from "./AdminTable";


const money = (n: number) => (n === 0 ? "$0" : n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`);
const label = (iso: string, w: UsageWindow) => {
  const d = new Date(iso);
  return w === "week" ? d.toLocaleString(undefined, { weekday: "short", hour: "2-digit" }) : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
};

export function UsageTab() {
  const explain = useApiError();
  const [window, setWindow] = useState<UsageWindow>("day");
  const [usage, setUsage] = useState<Usage>();
  const [error, setError] = useState<string>();
  /** One API key's usage only ("": everything). */
  const [key, setKey] = useState("");
  const [keys, setKeys] = useState<ApiKey[]>([]);
  useEffect(() => {
    admin.keys().then((r) => setKeys(r.keys), () => {});
  }, []);

  useEffect(() => {
    setUsage(undefined);
    admin.usage(window, key || undefined).then(setUsage, (err) => setError(explain(err)));
  }, [window, key, explain]);

  const series = usage?.series.map((p) => ({ ...p, t: label(p.at, window), ok: p.requests - p.errors }));
  const perModel = usage?.byModel.map((m) => ({ ...m, name: m.model ? `${m.provider}/${m.model}` : "(none answered)" }));

  return (
    <section aria-labelledby="usage-title">
      <div className="section-head">
        <h2 id="usage-title">Usage</h2>
        {keys.length > 0 && (
          <select aria-label="API key" value={key} onChange={(e) => setKey(e.target.value)}>
            <option value="">every client</option>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                key {k.name}
              </option>
            ))}
          </select>
        )}
        <div className="segmented" role="group" aria-label="Period">
          {USAGE_WINDOWS.map((w) => (
            <button key={w} type="button" className={w === window ? "" : "ghost"} aria-pressed={w === window} onClick={() => setWindow(w)}>
              Last {w}
            </button>
          ))}
        </div>
      </div>
      <Alert message={error} />
      {!usage || !series || !perModel ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="cards-row" data-testid="usage-totals">
            <Stat name="Requests" value={usage.totals.requests.toLocaleString()} />
            <Stat name="Tokens" value={(usage.totals.promptTokens + usage.totals.completionTokens).toLocaleString()} detail={`${usage.totals.promptTokens.toLocaleString()} in · ${usage.totals.completionTokens.toLocaleString()} out`} />
            <Stat name="Cost" value={money(usage.totals.cost)} />
            <Stat name="Errors" value={usage.totals.errors.toLocaleString()} />
            <Stat name="Fallbacks" value={usage.totals.fallbacks.toLocaleString()} detail="served by a later model in the chain" />
          </div>

          <div className="charts">
            <figure className="chart">
              <figcaption>Requests</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={series}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="t" tick={{ fontSize: 11 }} minTickGap={16} />
                  <YAxis allowDecimals={false} width={36} tick={{ fontSize: 11 }} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="ok" name="answered" stackId="r" fill="#5b4bdb" isAnimationActive={false} />
                  <Bar dataKey="errors" name="errors" stackId="r" fill="#d92d20" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
            <figure className="chart">
              <figcaption>Cost (USD)</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <LineChart data={series}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="t" tick={{ fontSize: 11 }} minTickGap={16} />
                  <YAxis width={56} tick={{ fontSize: 11 }} tickFormatter={(v: number) => money(v)} />
                  <Tooltip formatter={(v) => money(Number(v))} />
                  <Line type="monotone" dataKey="cost" name="cost" stroke="#12b76a" dot={false} isAnimationActive={false} />
                </LineChart>
              </ResponsiveContainer>
            </figure>
            <figure className="chart">
              <figcaption>Cost by model</figcaption>
              <ResponsiveContainer width="100%" height={Math.max(120, perModel.length * 36 + 40)}>
                <BarChart data={perModel} layout="vertical" margin={{ left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" tick={{ fontSize: 11 }} tickFormatter={(v: number) => money(v)} />
                  <YAxis type="category" dataKey="name" width={200} tick={{ fontSize: 11 }} />
                  <Tooltip formatter={(v) => money(Number(v))} />
                  <Bar dataKey="cost" name="cost" fill="#12b76a" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
          </div>

          <h3>By model</h3>
          <MeasuresTable rows={perModel.map((m) => ({ key: m.name, ...m }))} first="Model" />
          <h3>By provider</h3>
          <MeasuresTable rows={usage.byProvider.map((p) => ({ key: p.provider ?? "(none answered)", ...p }))} first="Provider" />
          <h3>By task</h3>
          <MeasuresTable rows={usage.byTask.map((t) => ({ key: t.task ?? "(none)", ...t }))} first="Task" />
          {usage.byKey.length > 0 && (
            <>
              <h3>By API key</h3>
              <MeasuresTable rows={usage.byKey.map((k) => ({ ...k, key: k.name }))} first="Key" />
            </>
          )}
        </>
      )}
      <RequestLog apiKey={key} />
    </section>
  );
}

function Stat({ name, value, detail }: { name: string; value: string; detail?: string }) {
  return (
    <div className="stat" data-stat={name.toLowerCase()}>
      <span className="muted">{name}</span>
      <strong>{value}</strong>
      {detail && <span className="muted small">{detail}</span>}
    </div>
  );
}

type MeasureRow = { key: string; requests: number; promptTokens: number; completionTokens: number; cost: number; errors: number; fallbacks: number };

function MeasuresTable({ rows, first }: { rows: MeasureRow[]; first: string }) {
  if (rows.length === 0) return <p className="muted">No requests in this period.</p>;
  return (
    <AdminTable data-table={`usage-${first.toLowerCase()}`} columns={[first, "Requests", "Tokens in", "Tokens out", "Cost", "Errors", "Fallbacks"]}>
      {rows.map((r) => (
        <tr key={r.key}>
          <td className="mono">{r.key}</td>
          <td>{r.requests}</td>
          <td>{r.promptTokens.toLocaleString()}</td>
          <td>{r.completionTokens.toLocaleString()}</td>
          <td>{money(r.cost)}</td>
          <td>{r.errors}</td>
          <td>{r.fallbacks}</td>
        </tr>
      ))}
    </AdminTable>
  );
}

const STATUSES = ["", "ok", "error", "aborted", "no_provider", "upstream_unavailable", "upstream_rejected", "prompt_too_long"];

/** The newest requests first, filtered, with each request's attempts a click away. */
function RequestLog({ apiKey }: { apiKey: string }) {
  const explain = useApiError();
  const [filter, setFilter] = useState({ status: "", model: "", session: "" });
  const [page, setPage] = useState<Requests["requests"]>();
  const [next, setNext] = useState<number | null>(null);
  const [open, setOpen] = useState<number>();
  const [error, setError] = useState<string>();

  const load = useCallback(
    (before?: number) => {
      setError(undefined);
      admin
        .requests({ status: filter.status || undefined, model: filter.model.trim() || undefined, session: filter.session.trim() || undefined, key: apiKey || undefined, before })
        .then(
          (r) => {
            setPage((p) => (before ? [...(p ?? []), ...r.requests] : r.requests));
            setNext(r.next);
          },
          (err) => setError(explain(err)),
        );
    },
    [filter, apiKey, explain],
  );
  useEffect(() => load(), [load]);

  return (
    <>
      <h3>Request log</h3>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the request log">
        <label>
          Status{" "}
          <select aria-label="Status" value={filter.status} onChange={(e) => setFilter((f) => ({ ...f, status: e.target.value }))}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model <input aria-label="Model" value={filter.model} onChange={(e) => setFilter((f) => ({ ...f, model: e.target.value }))} placeholder="exact model key" />
        </label>
        <label>
          Session <input aria-label="Session" value={filter.session} onChange={(e) => setFilter((f) => ({ ...f, session: e.target.value }))} placeholder="session id" />
        </label>
      </form>
      <Alert message={error} />
      {page && page.length === 0 && <p className="muted">No requests match.</p>}
      {page && page.length > 0 && (
        <AdminTable data-table="requests" columns={["When", "Task", "Served by", "Status", "Tokens", "Cost", "First token / total", "Attempts"]}>
          {page.map((r) => (
            <Fragment key={r.id}>
              <tr data-request={r.id}>
                <td title={r.createdAt}>{new Date(r.createdAt).toLocaleString()}</td>
                <td>
                  {r.task}
                  {r.apiKeyName && <div className="muted small">key {r.apiKeyName}</div>}
                </td>
                <td className="mono">{r.model ? `${r.provider}/${r.model}` : "—"}</td>
                <td>
                  <span className={`badge ${r.status === "ok" ? "ok" : r.status === "aborted" ? "off" : "bad"}`}>{r.status}</span>
                </td>
                <td>
                  {r.promptTokens ?? 0} + {r.completionTokens ?? 0}
                  {r.tokensEstimated ? " (est.)" : ""}
                  {Boolean(r.cachedTokens || r.cacheWriteTokens || r.reasoningTokens) && (
                    <div className="muted small" data-testid="token-details">
                      {r.cachedTokens ? `${r.cachedTokens} cached` : ""}
                      {r.cacheWriteTokens ? ` · ${r.cacheWriteTokens} written to cache` : ""}
                      {r.reasoningTokens ? ` · ${r.reasoningTokens} reasoning` : ""}
                    </div>
                  )}
                </td>
                <td>{r.cost === null ? "—" : money(r.cost)}</td>
                <td>
                  {r.ttftMs ?? "—"} / {r.totalMs ?? "—"} ms
                </td>
                <td>
                  <button type="button" className="ghost small" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? undefined : r.id)}>
                    {r.attempts.length} {r.attempts.length === 1 ? "attempt" : "attempts"}
                  </button>
                </td>
              </tr>
              {open === r.id && (
                <tr className="attempts">
                  <td colSpan={8}>
                    <ol>
                      {r.attempts.map((a, i) => (
                        <li key={i}>
                          <span className="mono">
                            {a.provider}/{a.model}
                          </span>{" "}
                          → {a.status ?? "no answer"} in {a.ms} ms{a.error ? `: ${a.error}` : ""}
                        </li>
                      ))}
                    </ol>
                    {r.error && <p className="small">Error: {r.error}</p>}
                    {r.sessionId && <p className="small mono">Session {r.sessionId}</p>}
                    {r.generationId && <p className="small mono">Generation {r.generationId}</p>}
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </AdminTable>
      )}
      {next !== null && (
        <button type="button" className="ghost" onClick={() => load(next)}>
          Older requests
        </button>
      )}
    </>
  );
}
