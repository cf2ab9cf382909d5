import { useEffect, useMemo, useState } from "react";
import { modelSchema, type ModelInput } from "../../../contracts/admin-schemas";
import { useApiError } from "./AdminApp";
import { ApiError } from "../api/client";
import { admin, type Model, type Provider, type UpstreamModel } from "./api";
import { Dialog, DialogActions, Field, FormError, SelectField, TextField, fieldAria, fromNumber, toNumber, useZodForm } from "./form";
import { HealthBadge } from "./HealthBadge";
import { defaultTokenizer, TOKENIZER_LABELS, TOKENIZERS, type TokenizerName } from "../../../contracts/tokenizers";
import { Alert, useResource } from "./useResource";
import { AdminTable } from "./AdminTable";

const SKIP_LABELS: Record<string, string> = {
  provider_inactive: "provider inactive",
  model_inactive: "inactive",
  missing_secret: "key not set",
  worker_not_configured: "no worker running",
  provider_missing: "no provider",
};

const price = (n: number | null) => (n === null ? "—" : `$${n}`);

export function ModelsTab() {
  const loaded = useResource(() => Promise.all([admin.models(), admin.providers()]));
  const { error, act } = loaded;
  const [data, providerList] = loaded.data ?? [];
  const providers = providerList?.providers ?? [];
  const load = loaded.reload;
  const [editing, setEditing] = useState<Model | "new">();

  return (
    <section aria-labelledby="models-title">
      <div className="section-head">
        <h2 id="models-title">Models</h2>
        <button type="button" onClick={() => setEditing("new")} disabled={providers.length === 0}>
          Add model
        </button>
      </div>
      <p className="muted">
        Each task's models in the order requests try them: the first that can serve answers, the next ones are the fallback chain. The arrows change
        the order; the default is the first choice.
      </p>
      <Alert message={error} />
      {!data ? (
        <p className="muted">Loading…</p>
      ) : (
        data.groups.map((g) => (
          <div key={g.task} className="model-group">
            <h3>{g.task}</h3>
            <AdminTable data-task={g.task} columns={["#", "Model", "Provider", "Price in / out per M tokens", "Context", "State", "Actions"]}>
              {g.models.map((m, i) => (
                <tr key={m.id} className={m.isActive ? "" : "inactive"} data-model={m.modelKey}>
                  <td>{i + 1}</td>
                  <td>
                    <strong>{m.displayName}</strong> {m.isDefault && <span className="badge ok">default</span>}
                    <div className="mono muted">{m.modelKey}</div>
                  </td>
                  <td>{m.provider?.displayName ?? "—"}</td>
                  <td>
                    {price(m.inputPricePerMtok)} / {price(m.outputPricePerMtok)}
                  </td>
                  <td>{m.contextLength?.toLocaleString() ?? "—"}</td>
                  <td>
                    {m.skipReason ? <span className="badge off">{SKIP_LABELS[m.skipReason] ?? m.skipReason}</span> : <HealthBadge state={m.circuit} />}
                  </td>
                  <td className="actions">
                    <button type="button" className="ghost icon" aria-label={`Move ${m.displayName} up`} disabled={i === 0} onClick={() => void act(() => admin.moveModel(m.id, "up"))}>
                      ↑
                    </button>
                    <button
                      type="button"
                      className="ghost icon"
                      aria-label={`Move ${m.displayName} down`}
                      disabled={i === g.models.length - 1}
                      onClick={() => void act(() => admin.moveModel(m.id, "down"))}
                    >
                      ↓
                    </button>
                    {!m.isDefault && (
                      <button type="button" className="ghost" onClick={() => void act(() => admin.updateModel(m.id, { isDefault: true }))}>
                        Make default
                      </button>
                    )}
                    <button type="button" className="ghost" onClick={() => void act(() => admin.updateModel(m.id, { isActive: !m.isActive }))}>
                      {m.isActive ? "Deactivate" : "Activate"}
                    </button>
                    <button type="button" className="ghost" onClick={() => setEditing(m)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="ghost danger"
                      onClick={() => {
                        if (confirm(`Delete ${m.displayName} (${m.task})?`)) void act(() => admin.deleteModel(m.id));
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </AdminTable>
          </div>
        ))
      )}
      <TaskProfiles />
      {editing && data && (
        <ModelForm
          model={editing === "new" ? undefined : editing}
          tasks={data.tasks}
          models={data.groups.flatMap((g) => g.models)}
          providers={providers}
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

type Draft = {
  providerId: string;
  modelKey: string;
  displayName: string;
  task: string;
  modelFamily: string;
  isActive: boolean;
  isDefault: boolean;
  priority: string;
  contextLength: string;
  acceptsImages: boolean;
  weight: string;
  /** "" picks from the model key. */
  tokenizer: TokenizerName | "";
  inputPricePerMtok: string;
  outputPricePerMtok: string;
  temperature: string;
  max_tokens: string;
  top_p: string;
};

function ModelForm(props: { model?: Model; tasks: string[]; models: Model[]; providers: Provider[]; onClose: () => void; onSaved: () => void }) {
  const { model } = props;
  const task = model?.task ?? props.tasks.find((t) => t === "roleplay") ?? props.tasks[0] ?? "";
  const own = model?.paramOverrides[task] ?? {};
  const initial: Draft = {
    providerId: model?.providerId ?? props.providers.find((p) => p.isActive)?.id ?? "",
    modelKey: model?.modelKey ?? "",
    displayName: model?.displayName ?? "",
    task,
    modelFamily: model?.modelFamily ?? "",
    isActive: model?.isActive ?? true,
    isDefault: model?.isDefault ?? false,
    priority: fromNumber(model?.priority ?? 100),
    contextLength: fromNumber(model?.contextLength),
    acceptsImages: model?.acceptsImages ?? false,
    weight: fromNumber(model?.weight),
    tokenizer: model?.tokenizer ?? "",
    inputPricePerMtok: fromNumber(model?.inputPricePerMtok),
    outputPricePerMtok: fromNumber(model?.outputPricePerMtok),
    temperature: fromNumber(own.temperature),
    max_tokens: fromNumber(own.max_tokens),
    top_p: fromNumber(own.top_p),
  };
  const schema = useMemo(() => modelSchema({ tasks: props.tasks, models: props.models, ...(model ? { editing: model.id } : {}) }), [props.tasks, props.models, model]);
  const form = useZodForm(initial, schema, (d): Record<string, unknown> => {
    const overrides = Object.fromEntries(
      (["temperature", "max_tokens", "top_p"] as const).filter((k) => d[k].trim() !== "").map((k) => [k, toNumber(d[k])]),
    );
    // Overrides for other tasks (set through the API) are kept as they are.
    const others = Object.fromEntries(Object.entries(model?.paramOverrides ?? {}).filter(([t]) => t !== d.task));
    return {
      providerId: d.providerId,
      modelKey: d.modelKey,
      displayName: d.displayName,
      task: d.task,
      modelFamily: d.modelFamily.trim() === "" ? null : d.modelFamily,
      isActive: d.isActive,
      isDefault: d.isDefault,
      priority: toNumber(d.priority),
      contextLength: toNumber(d.contextLength),
      acceptsImages: d.acceptsImages,
      weight: toNumber(d.weight),
      tokenizer: d.tokenizer === "" ? null : d.tokenizer,
      inputPricePerMtok: toNumber(d.inputPricePerMtok),
      outputPricePerMtok: toNumber(d.outputPricePerMtok),
      paramOverrides: Object.keys(overrides).length ? { ...others, [d.task]: overrides } : others,
    };
  });
  const { draft, set, errors } = form;
  const [browsing, setBrowsing] = useState(false);
  const provider = props.providers.find((p) => p.id === draft.providerId);
  const paramError = errors.paramOverrides ?? Object.entries(errors).find(([k]) => k.startsWith("paramOverrides."))?.[1];

  return (
    <Dialog title={model ? `Edit ${model.displayName}` : "Add a model"} onClose={props.onClose} wide>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.submit(async (input: ModelInput) => {
            if (model) await admin.updateModel(model.id, input);
            else await admin.createModel(input);
            props.onSaved();
          });
        }}
      >
        <div className="form-grid">
          <SelectField
            form={form}
            field="providerId"
            id="m-provider"
            label="Provider"
            options={props.providers.map((p) => ({ value: p.id, label: `${p.displayName} (${p.name})` }))}
            first={<option value="">Choose…</option>}
          />
          <SelectField form={form} field="task" id="m-task" label="Task" options={props.tasks} />
          <Field id="m-key" name="modelKey" label="Model key (as the provider names it)" errors={errors}>
            <div className="input-row">
              <input
                id="m-key"
                value={draft.modelKey}
                onChange={(e) => set("modelKey", e.target.value)}
                placeholder="anthropic/claude-3-haiku"
                {...fieldAria(errors, "modelKey", "m-key")}
              />
              {provider && (
                <button type="button" className="ghost" onClick={() => setBrowsing(true)}>
                  Browse
                </button>
              )}
            </div>
          </Field>
          <TextField form={form} field="displayName" id="m-name" label="Display name" />
          <TextField form={form} field="inputPricePerMtok" id="m-in" label="Input price ($ per million tokens)" inputMode="decimal" />
          <TextField form={form} field="outputPricePerMtok" id="m-out" label="Output price ($ per million tokens)" inputMode="decimal" />
          <TextField form={form} field="contextLength" id="m-ctx" label="Context length (tokens)" inputMode="numeric" />
          <TextField form={form} field="weight" id="m-weight" label="Weight (shares traffic with equal-priority models that have one; empty: none)" inputMode="numeric" />
          <label className="check">
            <input type="checkbox" checked={draft.acceptsImages} onChange={(e) => set("acceptsImages", e.target.checked)} /> Accepts images (a /v1 request with image parts
            goes only to models that do)
          </label>
          <SelectField
            form={form}
            field="tokenizer"
            id="m-tok"
            label="Tokenizer (prompts are fitted by its count)"
            options={TOKENIZERS.map((t) => ({ value: t, label: TOKENIZER_LABELS[t] }))}
            first={<option value="">Automatic: {TOKENIZER_LABELS[defaultTokenizer(draft.modelKey, provider?.kind ?? "")]}</option>}
          />
          <TextField form={form} field="priority" id="m-prio" label="Priority (lower is tried first)" inputMode="numeric" />
          <TextField form={form} field="modelFamily" id="m-family" label="Family (optional)" placeholder="claude" />
          <fieldset className="overrides">
            <legend>Sampling overrides for {draft.task} (empty: the task's profile)</legend>
            <label>
              temperature <input aria-label="temperature override" inputMode="decimal" value={draft.temperature} onChange={(e) => set("temperature", e.target.value)} />
            </label>
            <label>
              max_tokens <input aria-label="max_tokens override" inputMode="numeric" value={draft.max_tokens} onChange={(e) => set("max_tokens", e.target.value)} />
            </label>
            <label>
              top_p <input aria-label="top_p override" inputMode="decimal" value={draft.top_p} onChange={(e) => set("top_p", e.target.value)} />
            </label>
            {paramError && (
              <small className="field-error" role="alert">
                {paramError}
              </small>
            )}
          </fieldset>
          <label className="check">
            <input type="checkbox" checked={draft.isActive} onChange={(e) => set("isActive", e.target.checked)} /> Active
          </label>
          <label className="check">
            <input type="checkbox" checked={draft.isDefault} onChange={(e) => set("isDefault", e.target.checked)} /> Default (first choice for the task)
          </label>
        </div>
        <FormError errors={errors} />
        <DialogActions onCancel={props.onClose} busy={form.busy} label={model ? "Save" : "Add model"} />
      </form>
      {browsing && provider && (
        <BrowseDialog
          provider={provider}
          onClose={() => setBrowsing(false)}
          onPick={(m) => {
            form.setDraft((d) => ({
              ...d,
              modelKey: m.id,
              displayName: m.name,
              contextLength: fromNumber(m.contextLength),
              inputPricePerMtok: fromNumber(m.inputPricePerMtok),
              outputPricePerMtok: fromNumber(m.outputPricePerMtok),
            }));
            setBrowsing(false);
          }}
        />
      )}
    </Dialog>
  );
}

/** The provider's own `/models`, filtered as one types, to fill the form from. */
function BrowseDialog(props: { provider: Provider; onClose: () => void; onPick: (m: UpstreamModel) => void }) {
  const explain = useApiError();
  const [models, setModels] = useState<UpstreamModel[]>();
  const [error, setError] = useState<string>();
  const [filter, setFilter] = useState("");

  useEffect(() => {
    admin.upstreamModels(props.provider.id).then(
      (r) => setModels(r.models),
      (err) => setError(explain(err)),
    );
  }, [props.provider.id, explain]);

  const shown = (models ?? []).filter((m) => `${m.id} ${m.name}`.toLowerCase().includes(filter.toLowerCase())).slice(0, 200);
  return (
    <Dialog title={`Models offered by ${props.provider.displayName}`} onClose={props.onClose} wide>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : !models ? (
        <p className="muted">Asking {props.provider.effectiveBaseUrl}/models…</p>
      ) : (
        <>
          <input aria-label="Filter models" placeholder={`Filter ${models.length} models`} value={filter} onChange={(e) => setFilter(e.target.value)} autoFocus />
          <ul className="browse-list">
            {shown.map((m) => (
              <li key={m.id}>
                <button type="button" className="ghost" onClick={() => props.onPick(m)}>
                  <strong>{m.name}</strong> <span className="mono muted">{m.id}</span>
                  <span className="muted">
                    {" "}
                    {m.contextLength ? `${m.contextLength.toLocaleString()} tokens` : ""}
                    {m.inputPricePerMtok !== null ? ` · $${m.inputPricePerMtok} / $${m.outputPricePerMtok ?? "?"} per M` : ""}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </Dialog>
  );
}

/** Each task's sampling defaults (a model's own overrides win): rows like the others, saved on their own. */
function TaskProfiles() {
  const { data, error, act } = useResource(admin.taskProfiles);
  const [drafts, setDrafts] = useState<Record<string, { temperature: string; maxTokens: string; topP: string }>>({});
  const [fieldErrors, setFieldErrors] = useState<Record<string, Record<string, string>>>({});
  if (!data) return null;
  return (
    <section aria-labelledby="tasks-title" className="task-profiles">
      <h3 id="tasks-title">Task profiles</h3>
      <p className="muted">What each task asks of its models by default: coach (hints) and evaluate (debriefs, JSON) included.</p>
      <Alert message={error} />
      <AdminTable data-table="task-profiles" columns={["Task", "Temperature", "Max tokens", "Top p", <span className="visually-hidden">Actions</span>]}>
        {data.tasks.map((t) => {
          const d = drafts[t.task] ?? { temperature: String(t.temperature), maxTokens: String(t.maxTokens), topP: String(t.topP) };
          const set = (k: keyof typeof d, v: string) => setDrafts({ ...drafts, [t.task]: { ...d, [k]: v } });
          const errs = fieldErrors[t.task] ?? {};
          return (
            <tr key={t.task}>
              <td>
                <strong>{t.task}</strong>
                <div className="muted small">{t.description}</div>
              </td>
              {(["temperature", "maxTokens", "topP"] as const).map((k) => (
                <td key={k}>
                  <input aria-label={`${t.task} ${k}`} inputMode="decimal" value={d[k]} onChange={(e) => set(k, e.target.value)} size={6} />
                  {errs[k] && <div className="field-error">{errs[k]}</div>}
                </td>
              ))}
              <td>
                <button
                  type="button"
                  className="ghost"
                  onClick={() =>
                    void act(async () => {
                      try {
                        await admin.updateTaskProfile(t.task, { temperature: Number(d.temperature), maxTokens: Number(d.maxTokens), topP: Number(d.topP) });
                        setFieldErrors({ ...fieldErrors, [t.task]: {} });
                      } catch (err) {
                        if (err instanceof ApiError && Object.keys(err.fields).length) setFieldErrors({ ...fieldErrors, [t.task]: err.fields });
                        else throw err;
                      }
                    })
                  }
                >
                  Save
                </button>
              </td>
            </tr>
          );
        })}
      </AdminTable>
    </section>
  );
}
