import { useEffect, useState } from "react";
import { api } from "../api/client";
import { useDialog } from "./useDialog";
import type { PromptReport } from "../api/characters";

const KIND_LABEL: Record<string, string> = {
  system: "System prompt",
  example: "Example dialogue",
  history: "History",
  lore: "Lore",
  post_history: "After the history",
};

/**
 * "What the model saw" for one reply: the prompt as sent, part by part, what was left out to fit
 * the model's window, and which lore entries fired and why.
 */
export function PromptInspector({ sessionId, messageId, asAdmin, onClose }: { sessionId: string; messageId: string; asAdmin: boolean; onClose: () => void }) {
  const [report, setReport] = useState<PromptReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { ref, onKeyDown } = useDialog<HTMLElement>(onClose);
  useEffect(() => {
    api.promptReport(sessionId, messageId, asAdmin).then(setReport, (err: Error) => setError(err.message));
  }, [sessionId, messageId, asAdmin]);

  return (
    <section ref={ref} className="prompt-inspector" role="dialog" aria-label="What the model saw" data-testid="prompt-inspector" tabIndex={-1} onKeyDown={onKeyDown}>
      <header>
        <h2>What the model saw</h2>
        <button type="button" className="ghost small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {error && <p className="error-text">{error}</p>}
      {!report && !error && <p className="muted">Loading…</p>}
      {report && (
        <>
          <p className="muted">
            {report.model} via {report.provider} · window {report.contextLength.toLocaleString()} tokens
            {report.maxTokens ? `, ${report.maxTokens.toLocaleString()} kept for the reply` : ""} · counted with {report.tokenizer}
          </p>
          <h3>Lore that fired</h3>
          {report.lore.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="lore-fired" data-testid="lore-fired">
              {report.lore.map((l, i) => (
                <li key={i}>
                  <strong>{l.entry}</strong> <span className="muted">({l.book})</span> —{" "}
                  {l.why === "constant" ? "always in" : l.why === "recursion" ? `found in other lore by “${l.key}”` : `matched “${l.key}”`} · {l.position.replace("_", " ")} ·{" "}
                  ~{l.tokens} tokens
                </li>
              ))}
            </ul>
          )}
          <h3>Left out to fit</h3>
          <ul className="trimmed" data-testid="trimmed">
            <li>{report.trimmed.historyLeftOut === 0 ? "No message of the thread" : `${report.trimmed.historyLeftOut} older message(s) of the thread`}</li>
            {report.trimmed.examplesDropped > 0 && <li>{report.trimmed.examplesDropped} block(s) of example dialogue</li>}
            {report.trimmed.lore.map((l, i) => (
              <li key={i}>
                Lore “{l.entry}” ({l.book}): over its book's budget
              </li>
            ))}
          </ul>
          <h3>The prompt, in order</h3>
          <ol className="prompt-parts">
            {report.parts.map((p, i) => (
              <li key={i} className={`prompt-part part-${p.kind}`} data-kind={p.kind}>
                <span className="part-label">
                  {KIND_LABEL[p.kind] ?? p.kind} · {p.role}
                  {p.kind === "lore" && p.depth !== undefined ? ` · depth ${p.depth}` : ""}
                </span>
                <pre>{p.content}</pre>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
