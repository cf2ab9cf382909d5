import { useState, type ReactNode } from "react";
import type { z } from "zod";
import { fieldErrors } from "../../../contracts/admin-schemas";
import { ApiError } from "../api/client";

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
      {props.hint && !error && <small className="muted">{props.hint}</small>}
      {error && (
        <small className="field-error" id={`${props.id}-error`} role="alert">
          {error}
        </small>
      )}
    </div>
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
  return (
    <div className="dialog-backdrop" onClick={props.onClose}>
      <div className={`dialog${props.wide ? " wide" : ""}`} role="dialog" aria-modal="true" aria-label={props.title} onClick={(e) => e.stopPropagation()}>
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
