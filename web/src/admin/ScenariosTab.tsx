import { useMemo, useState } from "react";
import { AVATAR_STYLES, CARD_AVATAR_STYLE } from "../../../contracts/avatar-styles";
import { scenarioSchema, type ScenarioInput } from "../../../contracts/admin-schemas";
import { CONTENT_RATINGS, SCENARIO_CATEGORIES } from "../../../contracts/enums";
import { DIFFICULTIES, MAX_OBJECTIVES, type Difficulty } from "../../../contracts/practice";
import { ApiError } from "../api/client";
import { Avatar } from "../components/Avatar";
import { admin, galleryCharacters, type Scenario } from "./api";
import { Link } from "wouter";
import { Dialog, DialogActions, Field, FormError, SelectField, TextField, fieldAria, fromNumber, toNumber, useZodForm } from "./form";
import { Alert, useResource } from "./useResource";
import { AdminTable } from "./AdminTable";

type List = Awaited<ReturnType<typeof admin.scenarios>>;

export function ScenariosTab() {
  const { data, error, setError, reload: load, act, explain } = useResource(admin.scenarios);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<Scenario | "new">();

  const remove = async (s: Scenario) => {
    if (!confirm(`Delete "${s.title}"?`)) return;
    try {
      await admin.deleteScenario(s.id);
      load();
    } catch (err) {
      // Conversations would go with it: ask again, naming them.
      if (err instanceof ApiError && err.code === "scenario_in_use") {
        if (confirm(`${err.message}.\n\nDelete "${s.title}" and its ${s.sessions} conversation(s) for good?`)) await act(() => admin.deleteScenario(s.id, true));
      } else setError(explain(err));
    }
  };

  return (
    <section aria-labelledby="scenarios-title">
      <div className="section-head">
        <h2 id="scenarios-title">Scenarios</h2>
        <span>
          <label className="button ghost">
            Import a character card
            <input
              type="file"
              hidden
              accept=".png,.apng,.json,.charx,image/png,application/json"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                e.target.value = "";
                if (!file) return;
                try {
                  const r = await admin.importCard(file);
                  setNotice(r.alreadyImported ? `"${r.scenario.title}" was imported before` : `"${r.scenario.title}" imported, hidden until you publish it`);
                  load();
                } catch (err) {
                  setError(explain(err));
                }
              }}
            />
          </label>{" "}
          <button type="button" onClick={() => setEditing("new")}>
            New scenario
          </button>
        </span>
      </div>
      <Alert message={error} />
      {notice && (
        <p className="muted" role="status">
          {notice}
        </p>
      )}
      {!data ? (
        <p className="muted">Loading…</p>
      ) : (
        <AdminTable columns={[<span className="visually-hidden">Avatar</span>, "Scenario", "Status", "Rating", "Routing", "Conversations", "Practice", "Actions"]}>
          {data.scenarios.map((s) => (
            <tr key={s.id} data-scenario={s.slug} className={s.isActive ? "" : "inactive"}>
              <td>
                <Avatar style={s.avatarStyle} seed={s.avatarSeed} size={40} alt="" />
              </td>
              <td>
                <strong>{s.title}</strong>
                <div className="muted">
                  {s.characterName} · /s/{s.slug} · {s.category}
                </div>
              </td>
              <td>{s.isActive ? <span className="badge ok">published</span> : <span className="badge off">hidden</span>}</td>
              <td>{s.contentRating}</td>
              <td className="mono small">{s.modelKey ?? s.task ?? "roleplay"}</td>
              <td>{s.sessions}</td>
              <td className="small" data-testid="practice-stats">
                {s.practice ? (
                  <>
                    average <strong>{s.practice.averageScore}</strong> over {s.practice.attempts}
                    {s.practice.mostMissed && <div className="muted">most missed: {s.practice.mostMissed.objective}</div>}
                  </>
                ) : s.objectives.length ? (
                  <span className="muted">{s.objectives.length} objectives, no debrief yet</span>
                ) : null}
              </td>
              <td className="actions">
                <button type="button" className="ghost" onClick={() => setEditing(s)}>
                  Edit
                </button>
                {s.card && (
                  <Link href={`/admin/characters/${s.slug}`} className="button ghost">
                    Character &amp; lorebooks
                  </Link>
                )}
                <a className="button ghost" href={galleryCharacters.exportUrl(s.slug, s.avatarStyle === CARD_AVATAR_STYLE ? "png" : "json")} download>
                  Export card
                </a>
                <button type="button" className="ghost" onClick={() => void act(() => admin.updateScenario(s.id, { isActive: !s.isActive }))}>
                  {s.isActive ? "Hide" : "Publish"}
                </button>
                <button type="button" className="ghost danger" onClick={() => void remove(s)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </AdminTable>
      )}
      {editing && data && (
        <ScenarioForm
          scenario={editing === "new" ? undefined : editing}
          list={data}
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

/** One objective as the form edits it: the public text beside its private rubric. */
type ObjectiveDraft = { text: string; met: string; partly: string; notMet: string };

type Draft = Omit<ScenarioInput, "tags" | "sortOrder" | "task" | "modelKey" | "objectives" | "rubrics" | "turnLimit" | "difficulty"> & {
  tags: string;
  sortOrder: string;
  task: string;
  modelKey: string;
  objectives: ObjectiveDraft[];
  turnLimit: string;
  difficulty: "" | Difficulty;
};

const randomSeed = () => Math.random().toString(36).slice(2, 10);

function ScenarioForm(props: { scenario?: Scenario; list: List; onClose: () => void; onSaved: () => void }) {
  const s = props.scenario;
  const initial: Draft = {
    slug: s?.slug ?? "",
    title: s?.title ?? "",
    characterName: s?.characterName ?? "",
    description: s?.description ?? "",
    category: s?.category ?? "practice",
    tags: (s?.tags ?? []).join(", "),
    contentRating: s?.contentRating ?? "general",
    openingMessage: s?.openingMessage ?? "",
    avatarStyle: (s?.avatarStyle as Draft["avatarStyle"]) ?? "notionists",
    avatarSeed: s?.avatarSeed ?? randomSeed(),
    systemPrompt: s?.systemPrompt ?? "",
    isActive: s?.isActive ?? false,
    sortOrder: fromNumber(s?.sortOrder ?? 0),
    task: s?.task ?? "",
    modelKey: s?.modelKey ?? "",
    objectives: (s?.objectives ?? []).map((text, i) => ({ text, met: s?.rubrics[i]?.met ?? "", partly: s?.rubrics[i]?.partly ?? "", notMet: s?.rubrics[i]?.notMet ?? "" })),
    turnLimit: s?.turnLimit == null ? "" : String(s.turnLimit),
    difficulty: s?.difficulty ?? "",
  };
  const schema = useMemo(
    () => scenarioSchema({ tasks: props.list.tasks, modelKeys: props.list.modelKeys, scenarios: props.list.scenarios, ...(s ? { editing: s.id } : {}) }),
    [props.list, s],
  );
  const form = useZodForm(initial, schema, (d) => ({
    ...d,
    tags: d.tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    sortOrder: toNumber(d.sortOrder) ?? 0,
    task: d.task === "" ? null : d.task,
    modelKey: d.modelKey === "" ? null : d.modelKey,
    objectives: d.objectives.map((o) => o.text),
    rubrics: d.objectives.map(({ met, partly, notMet }) => ({ met, partly, notMet })),
    turnLimit: d.turnLimit.trim() === "" ? null : (toNumber(d.turnLimit) ?? Number.NaN),
    difficulty: d.difficulty === "" ? null : d.difficulty,
  }));
  const setObjective = (i: number, change: Partial<ObjectiveDraft>) =>
    set(
      "objectives",
      draft.objectives.map((o, k) => (k === i ? { ...o, ...change } : o)),
    );
  const { draft, set, errors } = form;
  const previewSeed = draft.avatarSeed.trim() || "preview";

  return (
    <Dialog title={s ? `Edit “${s.title}”` : "New scenario"} onClose={props.onClose} wide>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.submit(async (input) => {
            if (s) await admin.updateScenario(s.id, input);
            else await admin.createScenario(input);
            props.onSaved();
          });
        }}
      >
        <div className="form-grid">
          <TextField form={form} field="title" id="s-title" label="Title" />
          <TextField form={form} field="slug" id="s-slug" label="Address (/s/…)" placeholder="upset-client" />
          <TextField form={form} field="characterName" id="s-character" label="Character's name" />
          <div className="avatar-editor">
            <Avatar style={draft.avatarStyle} seed={previewSeed} size={96} alt="Avatar preview" />
            <div>
              <SelectField
                form={form}
                field="avatarStyle"
                id="s-style"
                label="Avatar style"
                options={AVATAR_STYLES}
                last={s?.card && <option value={CARD_AVATAR_STYLE}>the card's picture</option>}
              />
              <Field id="s-seed" name="avatarSeed" label="Avatar seed" errors={errors}>
                <div className="input-row">
                  <input id="s-seed" value={draft.avatarSeed} onChange={(e) => set("avatarSeed", e.target.value)} {...fieldAria(errors, "avatarSeed", "s-seed")} />
                  <button type="button" className="ghost" onClick={() => set("avatarSeed", randomSeed())}>
                    Another
                  </button>
                </div>
              </Field>
            </div>
          </div>
          <TextField form={form} field="description" id="s-description" label="Public description (shown in the gallery)" rows={3} />
          <TextField form={form} field="openingMessage" id="s-opening" label="Opening message (the character's first line)" rows={3} />
          <TextField
            form={form}
            field="systemPrompt"
            id="s-prompt"
            label="System prompt (private: sent to the model, never to the chat page)"
            hint={`${draft.systemPrompt.length.toLocaleString()} / 20 000 characters`}
            className="prompt-editor"
            rows={12}
            spellCheck
          />
          <SelectField form={form} field="category" id="s-category" label="Category" options={SCENARIO_CATEGORIES} />
          <SelectField form={form} field="contentRating" id="s-rating" label="Content rating" options={CONTENT_RATINGS} />
          <TextField form={form} field="tags" id="s-tags" label="Tags (comma-separated)" />
          <TextField form={form} field="sortOrder" id="s-order" label="Position in the gallery (lower first)" inputMode="numeric" />
          <SelectField form={form} field="task" id="s-task" label="Task (whose models reply)" options={props.list.tasks} first={<option value="">roleplay (the default)</option>} />
          <SelectField form={form} field="modelKey" id="s-model" label="Model tried first (optional)" options={props.list.modelKeys} first={<option value="">the task's order</option>} />
          <label className="check">
            <input type="checkbox" checked={draft.isActive} onChange={(e) => set("isActive", e.target.checked)} /> Published (listed in the gallery)
          </label>
        </div>
        <fieldset className="practice-fields">
          <legend>Practice: objectives (shown to the person) and rubrics (private: only the evaluating model reads them)</legend>
          <div className="form-grid">
            <TextField form={form} field="turnLimit" id="s-turns" label="Turn limit (the person's messages before the debrief is offered; empty: none)" inputMode="numeric" />
            <SelectField form={form} field="difficulty" id="s-difficulty" label="Difficulty" options={DIFFICULTIES} first={<option value="">not set</option>} />
          </div>
          {draft.objectives.map((o, i) => (
            <div key={i} className="objective-editor" data-testid="objective-editor">
              <Field id={`s-obj-${i}`} name={`objectives.${i}`} label={`Objective ${i + 1}`} errors={errors}>
                <input id={`s-obj-${i}`} value={o.text} onChange={(e) => setObjective(i, { text: e.target.value })} {...fieldAria(errors, `objectives.${i}`, `s-obj-${i}`)} />
              </Field>
              <Field id={`s-met-${i}`} name={`rubrics.${i}.met`} label="Met looks like" errors={errors}>
                <textarea id={`s-met-${i}`} rows={2} value={o.met} onChange={(e) => setObjective(i, { met: e.target.value })} {...fieldAria(errors, `rubrics.${i}.met`, `s-met-${i}`)} />
              </Field>
              <Field id={`s-partly-${i}`} name={`rubrics.${i}.partly`} label="Partly met looks like" errors={errors}>
                <textarea id={`s-partly-${i}`} rows={2} value={o.partly} onChange={(e) => setObjective(i, { partly: e.target.value })} {...fieldAria(errors, `rubrics.${i}.partly`, `s-partly-${i}`)} />
              </Field>
              <Field id={`s-notmet-${i}`} name={`rubrics.${i}.notMet`} label="Not met looks like" errors={errors}>
                <textarea id={`s-notmet-${i}`} rows={2} value={o.notMet} onChange={(e) => setObjective(i, { notMet: e.target.value })} {...fieldAria(errors, `rubrics.${i}.notMet`, `s-notmet-${i}`)} />
              </Field>
              <button type="button" className="ghost small danger" onClick={() => set("objectives", draft.objectives.filter((_, k) => k !== i))}>
                Remove objective {i + 1}
              </button>
            </div>
          ))}
          {draft.objectives.length < MAX_OBJECTIVES && (
            <button type="button" className="ghost" onClick={() => set("objectives", [...draft.objectives, { text: "", met: "", partly: "", notMet: "" }])}>
              + Add an objective
            </button>
          )}
        </fieldset>
        <FormError errors={errors} />
        <DialogActions onCancel={props.onClose} busy={form.busy} label={s ? "Save" : "Create scenario"} />
      </form>
    </Dialog>
  );
}
