import { useRef, useState, type KeyboardEvent } from "react";
import { enterSends, touchOnly } from "./enter-key";

/**
 * Enter sends, Shift+Enter adds a line; on a touch screen (whose keyboard has no Shift+Enter)
 * Enter adds a line and the Send button sends. Ctrl or Cmd+Enter sends on both. The draft
 * comes back if the server did not take it.
 */
export function Composer({
  disabled,
  streaming,
  maxChars,
  onSend,
  onStop,
  onEnhance,
  placeholder,
  waitS = 0,
}: {
  disabled: boolean;
  streaming: boolean;
  maxChars: number;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  /** Rewrites the draft; rejects with a message to show. */
  onEnhance?: (text: string) => Promise<string>;
  placeholder: string;
  /** Seconds until the server takes messages again (after a 429); the draft stays editable. */
  waitS?: number;
}) {
  const [draft, setDraft] = useState("");
  const [enhancing, setEnhancing] = useState(false);
  const [enhanceError, setEnhanceError] = useState<string | null>(null);
  /** The draft before the last enhancement, for Undo; cleared once the person edits or sends. */
  const [before, setBefore] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const [touch] = useState(touchOnly);
  const tooLong = draft.length > maxChars;

  const submit = async () => {
    const text = draft.trim();
    if (!text || tooLong || disabled || streaming || waitS > 0) return;
    setDraft("");
    setBefore(null);
    const stored = await onSend(text);
    if (!stored) setDraft((d) => (d === "" ? text : d));
    ref.current?.focus();
  };

  const enhance = async () => {
    const text = draft.trim();
    if (!onEnhance || !text || tooLong || enhancing || waitS > 0) return;
    setEnhancing(true);
    setEnhanceError(null);
    try {
      const better = await onEnhance(text);
      setBefore(draft);
      setDraft(better);
    } catch (err) {
      setEnhanceError((err as Error).message || "The draft could not be enhanced");
    } finally {
      setEnhancing(false);
      ref.current?.focus();
    }
  };

  const undo = () => {
    if (before === null) return;
    setDraft(before);
    setBefore(null);
    ref.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (enterSends(e, touch)) {
      e.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="composer-input" className="visually-hidden">
        Your message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        value={draft}
        rows={2}
        placeholder={placeholder}
        onChange={(e) => {
          setDraft(e.target.value);
          setEnhanceError(null);
        }}
        readOnly={enhancing}
        aria-busy={enhancing}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong}
        aria-describedby="composer-hint"
        disabled={disabled}
      />
      <div className="composer-bar">
        <span id="composer-hint" className={tooLong || enhanceError ? "hint error" : "hint"} role={enhanceError ? "alert" : undefined}>
          {tooLong
            ? `${draft.length.toLocaleString()} / ${maxChars.toLocaleString()} characters: too long to send`
            : enhanceError
              ? enhanceError
              : waitS > 0
                ? `You can send again in ${waitS} s; your draft is kept`
              : enhancing
                ? "Enhancing your draft…"
                : before !== null
                  ? "Enhanced: edit it, send it, or undo"
                  : touch
                    ? "Enter for a new line · Send to send"
                    : "Enter to send · Shift+Enter for a new line"}
        </span>
        <span className="composer-tools">
          {before !== null && !enhancing && (
            <button type="button" className="ghost" onClick={undo}>
              Undo
            </button>
          )}
          {onEnhance && !streaming && (
            <button
              type="button"
              className="ghost"
              onClick={() => void enhance()}
              disabled={disabled || enhancing || !draft.trim() || tooLong || waitS > 0}
              title="Rewrite your draft to be clearer and more vivid; you can edit it before sending"
            >
              {enhancing ? "Enhancing…" : "Enhance"}
            </button>
          )}
        {streaming ? (
          <button type="button" className="stop" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={disabled || enhancing || !draft.trim() || tooLong || waitS > 0}>
            {waitS > 0 ? `Send in ${waitS} s` : "Send"}
          </button>
        )}
        </span>
      </div>
    </form>
  );
}
