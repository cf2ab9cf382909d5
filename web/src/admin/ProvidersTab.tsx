import { useState } from "react";
import { providerSchema, type ProviderInput } from "../../../contracts/admin-schemas";
import { AUTH_SCHEMES, PROVIDER_KINDS } from "../../../contracts/enums";
import { PROVIDER_KIND_FACTS } from "../../../contracts/provider-kinds";
import { admin, type ProbeResult, type Provider } from "./api";
import { Dialog, DialogActions, FormError, SelectField, TextField, fromNumber, toNumber, useZodForm } from "./form";
import { HealthBadge } from "./HealthBadge";
import { Alert, useResource } from "./useResource";
import { AdminTable } from "./AdminTable";

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
        <AdminTable columns={["Provider", "Address", "Key", "Health", "Models", "Actions"]}>
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
        </AdminTable>
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
          <TextField form={form} field="name" id="p-name" label="Name (used in logs and headers)" placeholder="my-vllm" />
          <TextField form={form} field="displayName" id="p-display" label="Display name" placeholder="My vLLM server" />
          <SelectField form={form} field="kind" id="p-kind" label="Kind" hint={PROVIDER_KIND_FACTS[draft.kind].hint} options={PROVIDER_KINDS} />
          <TextField form={form} field="baseUrl" id="p-url" label="Base URL (the part before /chat/completions)" placeholder="http://127.0.0.1:8000/v1" />
          <SelectField form={form} field="authScheme" id="p-auth" label="Authentication" options={AUTH_SCHEMES} />
          <TextField form={form} field="authHeaderName" id="p-header" label="Key header" />
          <TextField
            form={form}
            field="secretName"
            id="p-secret"
            label="Environment variable holding the key"
            hint="Its name only: the key stays in Parley's environment and is never stored or shown."
            placeholder="MY_PROVIDER_API_KEY"
          />
          {PROVIDER_KIND_FACTS[draft.kind].routingPreferences && (
            <TextField
              form={form}
              field="routingPreferences"
              id="p-prefs"
              label="OpenRouter provider preferences (JSON: order, only, ignore, allow_fallbacks, data_collection, sort, max_price)"
              rows={4}
              className="mono"
              placeholder='{"order": ["anthropic"], "data_collection": "deny", "sort": "price"}'
            />
          )}
          <TextField form={form} field="failoverRules" id="p-failover" label="Failover rules (one “status: next | stop | retry_after” per line, over the defaults)" rows={2} className="mono" placeholder="529: next" />
          <TextField form={form} field="extraHeaders" id="p-headers" label="Extra headers (one “Name: value” per line)" rows={3} />
          <TextField form={form} field="connectTimeoutMs" id="p-connect" label="Connect timeout (ms, empty: default)" inputMode="numeric" />
          <TextField form={form} field="firstByteTimeoutMs" id="p-first" label="First-byte timeout (ms)" inputMode="numeric" />
          <TextField form={form} field="idleTimeoutMs" id="p-idle" label="Idle timeout (ms)" inputMode="numeric" />
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
