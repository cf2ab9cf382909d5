import { useState } from "react";
import { providerSchema, type ProviderInput } from "../../../contracts/admin-schemas";
import { AUTH_SCHEMES, PROVIDER_KINDS } from "../../../contracts/enums";
import { PROVIDER_KIND_FACTS } from "../../../contracts/provider-kinds";
import { admin, type ProbeResult, type Provider } from "./api";
import { Dialog, DialogActions, Field, FormError, fromNumber, toNumber, useZodForm } from "./form";
import { HealthBadge } from "./HealthBadge";
import { Alert, useResource } from "./useResource";

export function ProvidersTab() {
  const { data, error, reload: load, act, explain } = useResource(admin.providers);
  const providers = data?.providers;
  const [editing, setEditing] = useState<Provider | "new">();
  const [tests, setTests] = useState<Record<string, ProbeResult | "testing" | { error: string }>>({});

  const test = async (p: Provider) => {
    setTests((t) => ({ ...t, [p.id]: "testing" }));
    try {
      const { result } = await admin.testProvider(p.id);
      setTests((t) => ({ ...t, [p.id]: result }));
      load();
    } catch (err) {
      setTests((t) => ({ ...t, [p.id]: { error: explain(err) ?? "" } }));
    }
  };

  return (
    <section aria-labelledby="providers-title">
      <div className="section-head">
        <h2 id="providers-title">Providers</h2>
        <button type="button" onClick={() => setEditing("new")}>
          Add provider
        </button>
      </div>
      <Alert message={error} />
      {!providers ? (
        <p className="muted">Loading…</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th>Provider</th>
              <th>Address</th>
              <th>Key</th>
              <th>Health</th>
              <th>Models</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {providers.map((p) => {
              const t = tests[p.id];
              return (
                <tr key={p.id} className={p.isActive ? "" : "inactive"} data-provider={p.name}>
                  <td>
                    <strong>{p.displayName}</strong>
                    <div className="muted">
                      {p.name} · {p.kind}
                      {!p.isActive && " · inactive"}
                    </div>
                  </td>
                  <td className="mono">
                    {p.effectiveBaseUrl}
                    {p.effectiveBaseUrl !== p.baseUrl && <div className="muted">row: {p.baseUrl}</div>}
                  </td>
                  <td>
                    {p.secretName === null ? (
                      <span className="muted">none needed</span>
                    ) : (
                      <>
                        <span className="mono">{p.secretName}</span>{" "}
                        <span className={p.secretPresent ? "badge ok" : "badge bad"}>{p.secretPresent ? "set" : "not set"}</span>
                      </>
                    )}
                  </td>
                  <td>
                    {p.health && <HealthBadge state={p.health.state} />}
                    {p.health?.lastError && <div className="muted small">{p.health.lastError}</div>}
                    {t && (
                      <div className="test-result" role="status">
                        {t === "testing"
                          ? "Testing…"
                          : "error" in t && !("ok" in t)
                            ? t.error
                            : "ok" in t && (
                                <>
                                  Test: {t.status ?? "no answer"} · {t.latencyMs} ms · {t.model}
                                  {!t.ok && t.error ? ` · ${t.error}` : ""}
                                </>
                              )}
                      </div>
                    )}
                  </td>
                  <td>{p.models.length}</td>
                  <td className="actions">
                    <button type="button" className="ghost" onClick={() => void test(p)} disabled={t === "testing"}>
                      Test
                    </button>
                    <button type="button" className="ghost" onClick={() => setEditing(p)}>
                      Edit
                    </button>
                    <button type="button" className="ghost" onClick={() => void act(() => admin.updateProvider(p.id, { isActive: !p.isActive }))}>
                      {p.isActive ? "Deactivate" : "Activate"}
                    </button>
                    <button
                      type="button"
                      className="ghost danger"
                      onClick={() => {
                        if (confirm(`Delete the provider "${p.displayName}"?`)) void act(() => admin.deleteProvider(p.id));
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing && (
        <ProviderForm
          provider={editing === "new" ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            load();
          }}
        />
      )}
    </section>
  );
}

type Draft = Omit<ProviderInput, "extraHeaders" | "connectTimeoutMs" | "firstByteTimeoutMs" | "idleTimeoutMs" | "secretName" | "routingPreferences" | "failoverRules"> & {
  /** "status: action" lines. */
  failoverRules: string;
  secretName: string;
  /** OpenRouter's `provider` object, as JSON. */
  routingPreferences: string;
  extraHeaders: string;
  connectTimeoutMs: string;
  firstByteTimeoutMs: string;
  idleTimeoutMs: string;
};

/** Extra headers and failover rules are edited as "name: value" lines. */
const pairsToLines = (h: Record<string, string>) =>
  Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
const linesToPairs = (t: string) =>
  Object.fromEntries(
    t
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const i = l.indexOf(":");
        return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
      }),
  );

/** The JSON as written; text that is not JSON goes on as it is, for the schema to name the field. */
const parsePreferences = (text: string): unknown => {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

function ProviderForm({ provider, onClose, onSaved }: { provider?: Provider; onClose: () => void; onSaved: () => void }) {
  const initial: Draft = {
    name: provider?.name ?? "",
    displayName: provider?.displayName ?? "",
    kind: provider?.kind ?? "openai_compatible",
    baseUrl: provider?.baseUrl ?? "",
    authScheme: provider?.authScheme ?? "bearer",
    authHeaderName: provider?.authHeaderName ?? "Authorization",
    secretName: provider?.secretName ?? "",
    isActive: provider?.isActive ?? true,
    extraHeaders: pairsToLines(provider?.extraHeaders ?? {}),
    connectTimeoutMs: fromNumber(provider?.connectTimeoutMs),
    firstByteTimeoutMs: fromNumber(provider?.firstByteTimeoutMs),
    idleTimeoutMs: fromNumber(provider?.idleTimeoutMs),
    routingPreferences: provider?.routingPreferences ? JSON.stringify(provider.routingPreferences, null, 2) : "",
    failoverRules: pairsToLines(provider?.failoverRules ?? {}),
  };
  const form = useZodForm(initial, providerSchema, (d) => ({
    ...d,
    secretName: d.secretName.trim() === "" ? null : d.secretName,
    extraHeaders: linesToPairs(d.extraHeaders),
    connectTimeoutMs: toNumber(d.connectTimeoutMs),
    firstByteTimeoutMs: toNumber(d.firstByteTimeoutMs),
    idleTimeoutMs: toNumber(d.idleTimeoutMs),
    routingPreferences: parsePreferences(d.routingPreferences),
    failoverRules: linesToPairs(d.failoverRules),
  }));
  const { draft, set, errors } = form;

  return (
    <Dialog title={provider ? `Edit ${provider.displayName}` : "Add a provider"} onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.submit(async (input) => {
            if (provider) await admin.updateProvider(provider.id, input);
            else await admin.createProvider(input);
            onSaved();
          });
        }}
      >
        <div className="form-grid">
          <Field id="p-name" name="name" label="Name (used in logs and headers)" errors={errors}>
            <input id="p-name" value={draft.name} onChange={(e) => set("name", e.target.value)} placeholder="my-vllm" />
          </Field>
          <Field id="p-display" name="displayName" label="Display name" errors={errors}>
            <input id="p-display" value={draft.displayName} onChange={(e) => set("displayName", e.target.value)} placeholder="My vLLM server" />
          </Field>
          <Field id="p-kind" name="kind" label="Kind" errors={errors} hint={PROVIDER_KIND_FACTS[draft.kind].hint}>
            <select id="p-kind" value={draft.kind} onChange={(e) => set("kind", e.target.value as Draft["kind"])}>
              {PROVIDER_KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </Field>
          <Field id="p-url" name="baseUrl" label="Base URL (the part before /chat/completions)" errors={errors}>
            <input id="p-url" value={draft.baseUrl} onChange={(e) => set("baseUrl", e.target.value)} placeholder="http://127.0.0.1:8000/v1" />
          </Field>
          <Field id="p-auth" name="authScheme" label="Authentication" errors={errors}>
            <select id="p-auth" value={draft.authScheme} onChange={(e) => set("authScheme", e.target.value as Draft["authScheme"])}>
              {AUTH_SCHEMES.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </Field>
          <Field id="p-header" name="authHeaderName" label="Key header" errors={errors}>
            <input id="p-header" value={draft.authHeaderName} onChange={(e) => set("authHeaderName", e.target.value)} />
          </Field>
          <Field
            id="p-secret"
            name="secretName"
            label="Environment variable holding the key"
            errors={errors}
            hint="Its name only: the key stays in Parley's environment and is never stored or shown."
          >
            <input id="p-secret" value={draft.secretName} onChange={(e) => set("secretName", e.target.value)} placeholder="MY_PROVIDER_API_KEY" />
          </Field>
          {PROVIDER_KIND_FACTS[draft.kind].routingPreferences && (
            <Field
              id="p-prefs"
              name="routingPreferences"
              label="OpenRouter provider preferences (JSON: order, only, ignore, allow_fallbacks, data_collection, sort, max_price)"
              errors={errors}
            >
              <textarea
                id="p-prefs"
                rows={4}
                className="mono"
                placeholder='{"order": ["anthropic"], "data_collection": "deny", "sort": "price"}'
                value={draft.routingPreferences}
                onChange={(e) => set("routingPreferences", e.target.value)}
              />
            </Field>
          )}
          <Field id="p-failover" name="failoverRules" label="Failover rules (one “status: next | stop | retry_after” per line, over the defaults)" errors={errors}>
            <textarea id="p-failover" rows={2} className="mono" placeholder="529: next" value={draft.failoverRules} onChange={(e) => set("failoverRules", e.target.value)} />
          </Field>
          <Field id="p-headers" name="extraHeaders" label="Extra headers (one “Name: value” per line)" errors={errors}>
            <textarea id="p-headers" rows={3} value={draft.extraHeaders} onChange={(e) => set("extraHeaders", e.target.value)} />
          </Field>
          <Field id="p-connect" name="connectTimeoutMs" label="Connect timeout (ms, empty: default)" errors={errors}>
            <input id="p-connect" inputMode="numeric" value={draft.connectTimeoutMs} onChange={(e) => set("connectTimeoutMs", e.target.value)} />
          </Field>
          <Field id="p-first" name="firstByteTimeoutMs" label="First-byte timeout (ms)" errors={errors}>
            <input id="p-first" inputMode="numeric" value={draft.firstByteTimeoutMs} onChange={(e) => set("firstByteTimeoutMs", e.target.value)} />
          </Field>
          <Field id="p-idle" name="idleTimeoutMs" label="Idle timeout (ms)" errors={errors}>
            <input id="p-idle" inputMode="numeric" value={draft.idleTimeoutMs} onChange={(e) => set("idleTimeoutMs", e.target.value)} />
          </Field>
          <label className="check">
            <input type="checkbox" checked={draft.isActive} onChange={(e) => set("isActive", e.target.checked)} /> Active
          </label>
        </div>
        <FormError errors={errors} />
        <DialogActions onCancel={onClose} busy={form.busy} label={provider ? "Save" : "Add provider"} />
      </form>
    </Dialog>
  );
}
