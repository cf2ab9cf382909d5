import { useState } from "react";
import type { Persona } from "../../../contracts/persona";

export type PersonaScope = "default" | "conversation";

/**
 * Who the person is: the name `{{user}}` stands for and a short description the character is
 * told. In a conversation it can be saved for that conversation only, or as their usual one.
 */
export function PersonaEditor({
  initial,
  inConversation,
  ownPersona,
  onSave,
  onClose,
}: {
  initial: Persona | null;
  /** Offered from a conversation: "this conversation only" is a choice. */
  inConversation: boolean;
  /** The conversation already has its own persona: it can go back to the usual one. */
  ownPersona?: boolean;
  onSave: (persona: Persona | null, scope: PersonaScope) => Promise<string | null>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [scope, setScope] = useState<PersonaScope>(ownPersona ? "conversation" : "default");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const save = async (persona: Persona | null) => {
    setSaving(true);
    const problem = await onSave(persona, persona === null ? "conversation" : scope);
    setSaving(false);
    if (problem) setError(problem);
    else onClose();
  };
  return (
    <form
      className="persona-editor"
      aria-label="Your persona"
      onSubmit={(e) => {
        e.preventDefault();
        void save({ name, description });
      }}
    >
      <label>
        Your name in the story <span className="muted small">({"{{user}}"} in prompts)</span>
        <input value={name} maxLength={60} onChange={(e) => setName(e.target.value)} placeholder="User" required />
      </label>
      <label>
        About you <span className="muted small">(the character is told this)</span>
        <textarea value={description} maxLength={2000} rows={3} onChange={(e) => setDescription(e.target.value)} />
      </label>
      {inConversation && (
        <fieldset className="persona-scope">
          <label>
            <input type="radio" name="persona-scope" checked={scope === "default"} onChange={() => setScope("default")} /> For all my conversations
          </label>
          <label>
            <input type="radio" name="persona-scope" checked={scope === "conversation"} onChange={() => setScope("conversation")} /> This conversation only
          </label>
        </fieldset>
      )}
      {error && (
        <p className="hint error" role="alert">
          {error}
        </p>
      )}
      <div className="persona-actions">
        <button type="submit" disabled={saving || !name.trim()}>
          Save persona
        </button>
        {inConversation && ownPersona && (
          <button type="button" className="ghost" disabled={saving} onClick={() => void save(null)}>
            Use my usual persona here
          </button>
        )}
        <button type="button" className="ghost" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
