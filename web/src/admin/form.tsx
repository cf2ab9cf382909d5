import { useState, type ChangeEvent, type ReactNode } from "react";
import type { z } from "zod";
import { fieldErrors } from "../../../contracts/admin-schemas";
import { ApiError } from "../api/client";
import { useDialog } from "../components/useDialog";

/**
 * A form checked with the same zod schema the server enforces: errors appear next to their fields
 * before anything is sent, and the server's own field errors (a duplicate found meanwhile) land in
 * the same places.
 */
export function useZodForm<D extends object, T>(initial: D, schema: z.ZodType<T>, toInput: (d: D) => unknown) {
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const set = <K extends keyof D>(key: K, value: D[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== key && !k.startsWith(`${String(key)}.`) && k !== "")));
  };

  /** Checks the draft; sends it with `save` when it passes. */
  const submit = async (save: (input: T) => Promise<void>) => {
    const parsed = schema.safeParse(toInput(draft));
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.error));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await save(parsed.data);
    } catch (err) {
      if (err instanceof ApiError) setErrors(Object.keys(err.fields).length ? err.fields : { "": err.message });
      else setErrors({ "": (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return { draft, setDraft, set, errors, submit, busy };
}

/** The message for a field: its own, or the first about one of its parts (`extraHeaders.X-Foo`). */
export function errorFor(errors: Record<string, string>, name: string): string | undefined {
  return errors[name] ?? Object.entries(errors).find(([k]) => k.startsWith(`${name}.`))?.[1];
}

export function Field(props: { id: string; label: string; errors: Record<string, string>; name: string; hint?: ReactNode; children: ReactNode }) {
  const error = errorFor(props.errors, props.name);
  return (
    <div className={`field${error ? " has-error" : ""}`}>
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !error && (
        <small className="muted" id={`${props.id}-hint`}>
          {props.hint}
        </small>
      )}
      {error && (
        <small className="field-error" id={`${props.id}-error`} role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** What a control says of itself to assistive technology: whether its field is refused, and what is said under it. */
export function fieldAria(errors: Record<string, string>, name: string, id: string, hint?: ReactNode) {
  const error = errorFor(errors, name);
  return {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${id}-error` : hint ? `${id}-hint` : undefined,
  };
}

/** What a form's fields are bound to: useZodForm's draft, its setter and its errors. */
type Bound<D> = { draft: D; set: <K extends keyof D>(key: K, value: D[K]) => void; errors: Record<string, string> };
/** The draft's fields that hold text (a choice among words is text too). */
type TextKey<D> = { [K in keyof D]-?: D[K] extends string ? K : never }[keyof D];
type Labelled<D, K> = {
  form: Bound<D>;
  field: K;
  id: string;
  label: string;
  /** The schema's name for it, where its errors are found (the draft's name by default). */
  name?: string;
  hint?: ReactNode;
};

/** A labelled text box bound to a text field of the draft (a textarea with `rows`), its error beside it and announced with it. */
export function TextField<D, K extends TextKey<D>>(
  props: Labelled<D, K> & { rows?: number; placeholder?: string; inputMode?: "numeric" | "decimal"; type?: string; className?: string; spellCheck?: boolean },
) {
  const { form, field, id, label, name = String(field), hint, rows, ...attributes } = props;
  const control = {
    id,
    value: form.draft[field] as string,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => form.set(field, e.target.value as D[K]),
    ...fieldAria(form.errors, name, id, hint),
    ...attributes,
  };
  return (
    <Field id={id} name={name} label={label} errors={form.errors} hint={hint}>
      {rows ? <textarea rows={rows} {...control} /> : <input {...control} />}
    </Field>
  );
}

const labelled = <V,>(o: V | { value: V; label: ReactNode }): o is { value: V; label: ReactNode } => typeof o === "object" && o !== null && "value" in o;

/** A labelled choice bound to a text field of the draft: `options` as words (each its own label) or values with labels, `first` before them (an empty choice). */
export function SelectField<D, K extends TextKey<D>>(
  props: Labelled<D, K> & { options: readonly (D[K] | { value: D[K]; label: ReactNode })[]; first?: ReactNode; last?: ReactNode },
) {
  const { form, field, id, label, name = String(field), hint } = props;
  return (
    <Field id={id} name={name} label={label} errors={form.errors} hint={hint}>
      <select id={id} value={form.draft[field] as string} onChange={(e) => form.set(field, e.target.value as D[K])} {...fieldAria(form.errors, name, id, hint)}>
        {props.first}
        {props.options.map((o) =>
          labelled(o) ? (
            <option key={String(o.value)} value={String(o.value)}>
              {o.label}
            </option>
          ) : (
            <option key={String(o)}>{String(o)}</option>
          ),
        )}
        {props.last}
      </select>
    </Field>
  );
}

/** The form-wide message (no field to sit next to). */
export function FormError({ errors }: { errors: Record<string, string> }) {
  return errors[""] ? (
    <p className="field-error" role="alert">
      {errors[""]}
    </p>
  ) : null;
}

/** "" is "not set" (null); anything else must read as a number, or it is left for the schema to refuse. */
export const toNumber = (s: string): number | null => (s.trim() === "" ? null : Number(s));
export const fromNumber = (n: number | null | undefined): string => (n === null || n === undefined ? "" : String(n));

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const { ref, onKeyDown } = useDialog<HTMLDivElement>(props.onClose);
  return (
    <div className="dialog-backdrop" onClick={props.onClose}>
      <div
        ref={ref}
        className={`dialog${props.wide ? " wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        onClick={(e) => e.stopPropagation()}
      >
        <header>
          <h2>{props.title}</h2>
          <button type="button" className="ghost" onClick={props.onClose} aria-label="Close">
            ✕
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** Cancel and the submit button at the foot of every admin form. */
export function DialogActions({ onCancel, busy, label }: { onCancel: () => void; busy: boolean; label: string }) {
  return (
    <div className="dialog-actions">
      <button type="button" className="ghost" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" disabled={busy}>
        {label}
      </button>
    </div>
  );
}
