/** A readable error with a way forward: Retry, and for setup problems, where to read. */
export function ErrorBanner({
  message,
  code,
  onRetry,
  onDismiss,
}: {
  message: string;
  code?: string;
  onRetry?: () => void;
  onDismiss?: () => void;
}) {
  return (
    <div className="error-banner" role="alert">
      <p>
        {message}
        {code === "no_provider" && (
          <>
            {/* The server's messages end without a full stop; this is a sentence of its own. */}
            {/[.!?]$/.test(message) ? " " : ". "}
            How to: the section <strong>“Connect a model”</strong> in Parley's README.md.
          </>
        )}
      </p>
      <div className="error-actions">
        {onRetry && (
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        )}
        {onDismiss && (
          <button type="button" className="ghost" onClick={onDismiss} aria-label="Dismiss error">
            Dismiss
          </button>
        )}
      </div>
    </div>
  );
}
