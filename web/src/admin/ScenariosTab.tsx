import { useMemo, useState } from "react";
import { AVATAR_STYLES, CARD_AVATAR_STYLE } from "../../../contracts/avatar-styles";
import { scenarioSchema, type ScenarioInput } from "../../../contracts/admin-schemas";
import { CONTENT_RATINGS, SCENARIO_CATEGORIES } from "../../../contracts/enums";
import { DIFFICULTIES, MAX_OBJECTIVES, type Difficulty } from "../../../contracts/practice";
import { ApiError } from "../api/client";
import { Avatar } from "../components/Avatar";
import { admin, galleryCharacters, type Scenario } from "./api";
import { Link } from "wouter";
import { Dialog, DialogActions, Field, FormError, fromNumber, toNumber, useZodForm } from "./form";
import { Alert, useResource } from "./useResource";

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
        <table className="admin-table">
          <thead>
            <tr>
              <th></th>
              <th>Scenario</th>
              <th>Status</th>
              <th>Rating</th>
              <th>Routing</th>
              <th>Conversations</th>
              <th>Practice</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
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
          <Field id="s-title" name="title" label="Title" errors={errors}>
            <input id="s-title" value={draft.title} onChange={(e) => set("title", e.target.value)} />
          </Field>
          <Field id="s-slug" name="slug" label="Address (/s/…)" errors={errors}>
            <input id="s-slug" value={draft.slug} onChange={(e) => set("slug", e.target.value)} placeholder="upset-client" />
          </Field>
          <Field id="s-character" name="characterName" label="Character's name" errors={errors}>
            <input id="s-character" value={draft.characterName} onChange={(e) => set("characterName", e.target.value)} />
          </Field>
          <div className="avatar-editor">
            <Avatar style={draft.avatarStyle} seed={previewSeed} size={96} alt="Avatar preview" />
            <div>
              <Field id="s-style" name="avatarStyle" label="Avatar style" errors={errors}>
                <select id="s-style" value={draft.avatarStyle} onChange={(e) => set("avatarStyle", e.target.value as Draft["avatarStyle"])}>
                  {AVATAR_STYLES.map((a) => (
                    <option key={a}>{a}</option>
                  ))}
                  {s?.card && <option value={CARD_AVATAR_STYLE}>the card's picture</option>}
                </select>
              </Field>
              <Field id="s-seed" name="avatarSeed" label="Avatar seed" errors={errors}>
                <div className="input-row">
                  <input id="s-seed" value={draft.avatarSeed} onChange={(e) => set("avatarSeed", e.target.value)} />
                  <button type="button" className="ghost" onClick={() => set("avatarSeed", randomSeed())}>
                    Another
                  </button>
                </div>
              </Field>
            </div>
          </div>
          <Field id="s-description" name="description" label="Public description (shown in the gallery)" errors={errors}>
            <textarea id="s-description" rows={3} value={draft.description} onChange={(e) => set("description", e.target.value)} />
          </Field>
          <Field id="s-opening" name="openingMessage" label="Opening message (the character's first line)" errors={errors}>
            <textarea id="s-opening" rows={3} value={draft.openingMessage} onChange={(e) => set("openingMessage", e.target.value)} />
          </Field>
          <Field
            id="s-prompt"
            name="systemPrompt"
            label="System prompt (private: sent to the model, never to the chat page)"
            errors={errors}
            hint={`${draft.systemPrompt.length.toLocaleString()} / 20 000 characters`}
          >
            <textarea id="s-prompt" className="prompt-editor" rows={12} value={draft.systemPrompt} onChange={(e) => set("systemPrompt", e.target.value)} spellCheck />
          </Field>
          <Field id="s-category" name="category" label="Category" errors={errors}>
            <select id="s-category" value={draft.category} onChange={(e) => set("category", e.target.value as Draft["category"])}>
              {SCENARIO_CATEGORIES.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </Field>
          <Field id="s-rating" name="contentRating" label="Content rating" errors={errors}>
            <select id="s-rating" value={draft.contentRating} onChange={(e) => set("contentRating", e.target.value as Draft["contentRating"])}>
              {CONTENT_RATINGS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </Field>
          <Field id="s-tags" name="tags" label="Tags (comma-separated)" errors={errors}>
            <input id="s-tags" value={draft.tags} onChange={(e) => set("tags", e.target.value)} />
          </Field>
          <Field id="s-order" name="sortOrder" label="Position in the gallery (lower first)" errors={errors}>
            <input id="s-order" inputMode="numeric" value={draft.sortOrder} onChange={(e) => set("sortOrder", e.target.value)} />
          </Field>
          <Field id="s-task" name="task" label="Task (whose models reply)" errors={errors}>
            <select id="s-task" value={draft.task} onChange={(e) => set("task", e.target.value)}>
              <option value="">roleplay (the default)</option>
              {props.list.tasks.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </Field>
          <Field id="s-model" name="modelKey" label="Model tried first (optional)" errors={errors}>
            <select id="s-model" value={draft.modelKey} onChange={(e) => set("modelKey", e.target.value)}>
              <option value="">the task's order</option>
              {props.list.modelKeys.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </Field>
          <label className="check">
            <input type="checkbox" checked={draft.isActive} onChange={(e) => set("isActive", e.target.checked)} /> Published (listed in the gallery)
          </label>
        </div>
        <fieldset className="practice-fields">
          <legend>Practice: objectives (shown to the person) and rubrics (private: only the evaluating model reads them)</legend>
          <div className="form-grid">
            <Field id="s-turns" name="turnLimit" label="Turn limit (the person's messages before the debrief is offered; empty: none)" errors={errors}>
              <input id="s-turns" inputMode="numeric" value={draft.turnLimit} onChange={(e) => set("turnLimit", e.target.value)} />
            </Field>
            <Field id="s-difficulty" name="difficulty" label="Difficulty" errors={errors}>
              <select id="s-difficulty" value={draft.difficulty} onChange={(e) => set("difficulty", e.target.value as Draft["difficulty"])}>
                <option value="">not set</option>
                {DIFFICULTIES.map((d) => (
                  <option key={d}>{d}</option>
                ))}
              </select>
            </Field>
          </div>
          {draft.objectives.map((o, i) => (
            <div key={i} className="objective-editor" data-testid="objective-editor">
              <Field id={`s-obj-${i}`} name={`objectives.${i}`} label={`Objective ${i + 1}`} errors={errors}>
                <input id={`s-obj-${i}`} value={o.text} onChange={(e) => setObjective(i, { text: e.target.value })} />
              </Field>
              <Field id={`s-met-${i}`} name={`rubrics.${i}.met`} label="Met looks like" errors={errors}>
                <textarea id={`s-met-${i}`} rows={2} value={o.met} onChange={(e) => setObjective(i, { met: e.target.value })} />
              </Field>
              <Field id={`s-partly-${i}`} name={`rubrics.${i}.partly`} label="Partly met looks like" errors={errors}>
                <textarea id={`s-partly-${i}`} rows={2} value={o.partly} onChange={(e) => setObjective(i, { partly: e.target.value })} />
              </Field>
              <Field id={`s-notmet-${i}`} name={`rubrics.${i}.notMet`} label="Not met looks like" errors={errors}>
                <textarea id={`s-notmet-${i}`} rows={2} value={o.notMet} onChange={(e) => setObjective(i, { notMet: e.target.value })} />
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
