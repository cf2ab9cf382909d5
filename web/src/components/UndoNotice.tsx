import { useEffect, type ReactNode } from "react";

/**
 * What was just deleted or removed, with its Undo, until dismissed (or, with `dismissAfterMs`,
 * until then: a notice about a message in the thread should not stay over the conversation).
 */
export function UndoNotice({
  children,
  testId,
  onUndo,
  onDismiss,
  dismissAfterMs,
}: {
  children: ReactNode;
  testId: string;
  onUndo: () => void;
  onDismiss: () => void;
  dismissAfterMs?: number;
}) {
  useEffect(() => {
    if (dismissAfterMs === undefined) return;
    const t = setTimeout(onDismiss, dismissAfterMs);
    return () => clearTimeout(t);
  }, [onDismiss, dismissAfterMs]);
  return (
    <div className="undo-notice" role="status" data-testid={testId}>
      <span>{children}</span>
      <button type="button" className="ghost" onClick={onUndo}>
        Undo
      </button>
      <button type="button" className="ghost" aria-label="Dismiss" onClick={onDismiss}>
        ✕
      </button>
    </div>
  );
}
