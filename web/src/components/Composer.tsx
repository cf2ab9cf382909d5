import { useRef, useState, type KeyboardEvent } from "react";

/** Enter sends, Shift+Enter adds a line. The draft comes back if the server did not take it. */
export function Composer({
  disabled,
  streaming,
  maxChars,
  onSend,
  onStop,
  placeholder,
}: {
  disabled: boolean;
  streaming: boolean;
  maxChars: number;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  placeholder: string;
}) {
  const [draft, setDraft] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = draft.length > maxChars;

  const submit = async () => {
    const text = draft.trim();
    if (!text || tooLong || disabled || streaming) return;
    setDraft("");
    const stored = await onSend(text);
    if (!stored) setDraft((d) => (d === "" ? text : d));
    ref.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
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
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong}
        aria-describedby="composer-hint"
        disabled={disabled}
      />
      <div className="composer-bar">
        <span id="composer-hint" className={tooLong ? "hint error" : "hint"}>
          {tooLong
            ? `${draft.length.toLocaleString()} / ${maxChars.toLocaleString()} characters: too long to send`
            : "Enter to send · Shift+Enter for a new line"}
        </span>
        {streaming ? (
          <button type="button" className="stop" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={disabled || !draft.trim() || tooLong}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}
