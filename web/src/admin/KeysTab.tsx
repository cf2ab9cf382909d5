import { useState } from "react";
import { apiKeyCreateSchema, BUDGET_PERIODS, type ApiKeyInput, type BudgetPeriod } from "../../../contracts/api-keys";
import { admin, type ApiKey } from "./api";
import { Dialog, DialogActions, FormError, SelectField, TextField, toNumber, useZodForm } from "./form";
import { Alert, useResource } from "./useResource";
import { AdminTable } from "./AdminTable";

const money = (n: number | null) => (n === null ? "—" : `$${n < 0.01 && n > 0 ? n.toPrecision(2) : n.toFixed(2)}`);

/**
 * Parley API keys: one per app or person, each with what it may use, how fast and how much. A
 * secret is shown once, when it is made (or rotated); the list shows a key's prefix to tell it by.
 */
export function KeysTab() {
  const { data, error, reload, act } = useResource(admin.keys);
  const [editing, setEditing] = useState<ApiKey | "new">();
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);

  return (
    <section aria-labelledby="keys-title">
      <div className="section-head">
        <h2 id="keys-title">API keys</h2>
        <button type="button" onClick={() => setEditing("new")}>
          New key
        </button>
      </div>
      <p className="muted">
        Keys for the OpenAI-compatible API (<code>/v1</code>). Limits are checked before any model is called; spend is charged from each request's
        real cost when it ends, so one request in flight may take a key just past its budget.
      </p>
      <Alert message={error} />
      {secret && <ShownOnce {...secret} onDone={() => setSecret(null)} />}
      {!data ? (
        <p className="muted">Loading…</p>
      ) : data.keys.length === 0 ? (
        <p className="muted">No keys yet.</p>
      ) : (
        <AdminTable data-table="keys" columns={["Key", "Limits", "Spent this period", "Status", "Actions"]}>
          {data.keys.map((k) => (
            <tr key={k.id} data-key={k.name}>
              <td>
                <strong>{k.name}</strong> <span className="mono small">{k.prefix}…</span>
                {k.ownerNote && <div className="muted small">{k.ownerNote}</div>}
              </td>
              <td className="small">
                {k.rpm ? `${k.rpm} req/min` : "any rate"} · {k.tpm ? `${k.tpm.toLocaleString()} tokens/min` : "any tokens"}
                {(k.allowedTasks.length > 0 || k.allowedModels.length > 0) && <div className="muted">only {[...k.allowedTasks, ...k.allowedModels].join(", ")}</div>}
              </td>
              <td className="small" data-testid="key-spend">
                {money(k.spentUsd)}
                {k.budgetUsd !== null && (
                  <div className="muted">
                    of {money(k.budgetUsd)} ({k.budgetPeriod}) · {money(k.remainingUsd)} left{k.resetsAt ? ` · resets ${new Date(k.resetsAt).toLocaleString()}` : ""}
                  </div>
                )}
              </td>
              <td>
                {k.revoked ? (
                  <span className="badge bad">revoked</span>
                ) : !k.enabled ? (
                  <span className="badge off">off</span>
                ) : k.expiresAt && new Date(k.expiresAt) < new Date() ? (
                  <span className="badge off">expired</span>
                ) : (
                  <span className="badge ok">active</span>
                )}
                <div className="muted small">{k.lastUsedAt ? `used ${new Date(k.lastUsedAt).toLocaleString()}` : "never used"}</div>
              </td>
              <td className="actions">
                {!k.revoked && (
                  <>
                    <button type="button" className="ghost" onClick={() => setEditing(k)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="ghost"
                      onClick={() =>
                        confirm(`A new secret for "${k.name}": the current one stops working at once.`) &&
                        void act(async () => {
                          const r = await admin.rotateKey(k.id);
                          setSecret({ name: r.key.name, secret: r.secret });
                        })
                      }
                    >
                      Rotate
                    </button>
                    <button type="button" className="ghost danger" onClick={() => confirm(`Revoke "${k.name}" for good?`) && void act(() => admin.revokeKey(k.id))}>
                      Revoke
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </AdminTable>
      )}
      {editing && (
        <KeyForm
          apiKey={editing === "new" ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(made) => {
            setEditing(undefined);
            if (made) setSecret(made);
            reload();
          }}
        />
      )}
    </section>
  );
}

/** The secret, once: to copy now, since Parley keeps only its hash. */
function ShownOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice secret-once" role="status" data-testid="secret-once">
      <p>
        The secret of <strong>{name}</strong>. Copy it now: it is not shown again.
      </p>
      <code className="mono" data-testid="secret">
        {secret}
      </code>{" "}
      <button
        type="button"
        className="ghost"
        onClick={() =>
          void navigator.clipboard?.writeText(secret).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

type Draft = {
  name: string;
  ownerNote: string;
  allowed: string;
  rpm: string;
  tpm: string;
  budgetUsd: string;
  budgetPeriod: BudgetPeriod;
  expiresAt: string;
  enabled: boolean;
};

function KeyForm(props: { apiKey?: ApiKey; onClose: () => void; onSaved: (made?: { name: string; secret: string }) => void }) {
  const k = props.apiKey;
  const initial: Draft = {
    name: k?.name ?? "",
    ownerNote: k?.ownerNote ?? "",
    allowed: [...(k?.allowedTasks ?? []).map((t) => `task:${t}`), ...(k?.allowedModels ?? [])].join(", "),
    rpm: k?.rpm ? String(k.rpm) : "",
    tpm: k?.tpm ? String(k.tpm) : "",
    budgetUsd: k?.budgetUsd !== undefined && k?.budgetUsd !== null ? String(k.budgetUsd) : "",
    budgetPeriod: k?.budgetPeriod ?? "monthly",
    expiresAt: k?.expiresAt ? k.expiresAt.slice(0, 16) : "",
    enabled: k?.enabled ?? true,
  };
  const optional = (s: string) => (s.trim() === "" ? null : (toNumber(s) ?? Number.NaN));
  const form = useZodForm(initial, apiKeyCreateSchema, (d): ApiKeyInput => {
    const allowed = d.allowed
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    return {
      name: d.name,
      ownerNote: d.ownerNote,
      allowedTasks: allowed.filter((a) => a.startsWith("task:")).map((a) => a.slice(5)),
      allowedModels: allowed.filter((a) => !a.startsWith("task:")),
      rpm: optional(d.rpm),
      tpm: optional(d.tpm),
      budgetUsd: optional(d.budgetUsd),
      budgetPeriod: d.budgetPeriod,
      expiresAt: d.expiresAt ? new Date(d.expiresAt).toISOString() : null,
      enabled: d.enabled,
    };
  });
  const { draft, set, errors } = form;
  return (
    <Dialog title={k ? `Edit “${k.name}”` : "New API key"} onClose={props.onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.submit(async (input) => {
            if (k) {
              await admin.updateKey(k.id, input);
              props.onSaved();
            } else {
              const r = await admin.createKey(input);
              props.onSaved({ name: r.key.name, secret: r.secret });
            }
          });
        }}
      >
        <div className="form-grid">
          <TextField form={form} field="name" id="k-name" label="Name" placeholder="docs-bot" />
          <TextField form={form} field="ownerNote" id="k-note" label="Owner note" placeholder="who holds it, what for" />
          <TextField form={form} field="allowed" id="k-allowed" label="Only these (task:roleplay, model keys; empty: all)" name="allowedModels" />
          <TextField form={form} field="rpm" id="k-rpm" label="Requests per minute (empty: any)" inputMode="numeric" />
          <TextField form={form} field="tpm" id="k-tpm" label="Tokens per minute (empty: any)" inputMode="numeric" />
          <TextField form={form} field="budgetUsd" id="k-budget" label="Budget in USD (empty: none)" inputMode="decimal" />
          <SelectField form={form} field="budgetPeriod" id="k-period" label="Budget resets" options={BUDGET_PERIODS} />
          <TextField form={form} field="expiresAt" id="k-expires" label="Expires (empty: never)" type="datetime-local" />
          <label className="check">
            <input type="checkbox" checked={draft.enabled} onChange={(e) => set("enabled", e.target.checked)} /> On
          </label>
        </div>
        <FormError errors={errors} />
        <DialogActions onCancel={props.onClose} busy={form.busy} label={k ? "Save" : "Create key"} />
      </form>
    </Dialog>
  );
}
