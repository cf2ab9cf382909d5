import { useEffect, useState } from "react";
import { useApiError } from "./AdminApp";
import { admin, type Health } from "./api";
import { HealthBadge } from "./HealthBadge";
import { Alert } from "./useResource";
import { AdminTable } from "./AdminTable";

const REFRESH_MS = 2000;

const ago = (iso: string | null | undefined) => {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
};

/** What routing sees right now, polled every two seconds while the tab is open. */
export function HealthTab() {
  const explain = useApiError();
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        const h = await admin.health();
        if (!stopped) {
          setHealth(h);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError(explain(err));
      }
      if (!stopped) timer = setTimeout(() => void tick(), REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [explain]);

  const workers = health ? Object.entries(health.workerHealth.shared ?? health.workerHealth.instance) : [];
  return (
    <section aria-labelledby="health-title">
      <div className="section-head">
        <h2 id="health-title">Health</h2>
        <span className="muted" role="status">
          {health ? `Updated ${new Date(health.at).toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s` : "Loading…"}
        </span>
      </div>
      <Alert message={error} />
      {health && (
        <>
          <div className="cards-row">
            <div className="stat">
              <span className="muted">Database</span>
              <strong>{health.database}</strong>
            </div>
            <div className="stat">
              <span className="muted">Local worker</span>
              <strong>{health.localWorker ? health.localWorker.state : "not run by this instance"}</strong>
              {health.localWorker?.model && <span className="muted small">{health.localWorker.model} · {health.localWorker.restarts} restarts</span>}
            </div>
            <div className="stat">
              <span className="muted">Routing data version</span>
              <strong>{health.registryVersion}</strong>
            </div>
            <div className="stat" data-stat="rate-limits">
              <span className="muted">Rate limits</span>
              <strong>{health.rateLimit.degraded ? `memory (${health.rateLimit.store} failing)` : health.rateLimit.store}</strong>
              {health.rateLimit.error && <span className="muted small">{health.rateLimit.error}</span>}
            </div>
          </div>

          <h3>Instances</h3>
          <p className="muted small">This page was answered by {health.instance}. Circuits and provider conditions below are that instance's own.</p>
          <AdminTable data-table="instances" columns={["Instance", "Routing version", "Started", "Last seen"]}>
            {health.instances.map((i) => (
              <tr key={i.id}>
                <td className="mono">
                  {i.id}
                  {i.id === health.instance && <span className="muted"> (this one)</span>}
                </td>
                <td>
                  {i.registryVersion === health.registryVersion ? i.registryVersion : <span className="badge warn">{i.registryVersion}</span>}
                </td>
                <td title={i.startedAt}>{ago(i.startedAt)}</td>
                <td title={i.seenAt}>{ago(i.seenAt)}</td>
              </tr>
            ))}
          </AdminTable>

          <h3>Worker health cache</h3>
          {workers.length === 0 ? (
            <p className="muted">No local worker is configured, so none is probed.</p>
          ) : (
            <AdminTable data-table="worker-health" columns={["Worker", "Healthy", "Last check", "Response time", "Error"]}>
              {workers.map(([key, w]) => (
                <tr key={key}>
                  <td className="mono">{key}</td>
                  <td>{w.isHealthy ? <span className="badge ok">yes</span> : <span className="badge bad">no</span>}</td>
                  <td title={w.lastCheck}>{ago(w.lastCheck)}</td>
                  <td>{w.responseTime === null ? "—" : `${w.responseTime} ms`}</td>
                  <td className="small">{w.error ?? ""}</td>
                </tr>
              ))}
            </AdminTable>
          )}

          <h3>Providers</h3>
          <AdminTable columns={["Provider", "State", "Last error"]}>
            {health.providers.map((p) => (
              <tr key={p.id}>
                <td>{p.displayName}</td>
                <td>{p.health && <HealthBadge state={p.health.state} />}</td>
                <td className="small">{p.health?.lastError ?? ""}</td>
              </tr>
            ))}
          </AdminTable>

          <h3>Circuits</h3>
          <AdminTable data-table="circuits" columns={["Model", "Task", "Circuit", "Failures in a row", "Last error"]}>
            {health.circuits.map((c) => (
              <tr key={c.modelId} className={c.isActive ? "" : "inactive"}>
                <td className="mono">
                  {c.provider}/{c.model}
                </td>
                <td>{c.task}</td>
                <td>
                  <HealthBadge state={c.state} />
                </td>
                <td>{c.failures}</td>
                <td className="small">{c.lastError ?? ""}</td>
              </tr>
            ))}
          </AdminTable>
          <p className="muted small">Circuits and provider states are this instance's own view: each instance learns from its own requests.</p>
        </>
      )}
    </section>
  );
}
