import type { Debrief } from "./api";

const RATING: Record<string, { label: string; mark: string }> = {
  met: { label: "Met", mark: "✓" },
  partly: { label: "Partly met", mark: "◐" },
  not_met: { label: "Not met", mark: "✗" },
};

/** A debrief: per objective how it went with the person's own words as evidence (each a link to its message), a score, and what to try next. */
export function DebriefCard({ debrief, onQuote, earlier = false }: { debrief: Debrief; onQuote: (messageId: string) => void; earlier?: boolean }) {
  const quote = (q: { quote: string; messageId: string }, key: number | string) => (
    <a
      key={key}
      href={`#message-${q.messageId}`}
      className="quote"
      onClick={(e) => {
        e.preventDefault();
        onQuote(q.messageId);
      }}
    >
      “{q.quote}”
    </a>
  );
  return (
    <section className={`debrief${earlier ? " earlier" : ""}`} aria-label="Feedback" data-testid="debrief">
      <header>
        <h2>Feedback</h2>
        <span className="score" data-testid="debrief-score" aria-label={`Score ${debrief.score} out of 100`}>
          {debrief.score}
          <small>/100</small>
        </span>
        <span className="muted">{new Date(debrief.createdAt).toLocaleString()}</span>
      </header>
      <ul className="debrief-objectives">
        {debrief.objectives.map((o, i) => (
          <li key={i} className={`rating-${o.rating}`}>
            <span className="rating-mark" aria-label={RATING[o.rating]?.label}>
              {RATING[o.rating]?.mark}
            </span>{" "}
            <strong>{o.objective}</strong> <span className="muted">— {RATING[o.rating]?.label}</span>
            {o.comment && <p>{o.comment}</p>}
            {o.evidence.length > 0 && <p className="evidence">{o.evidence.map((e, k) => quote(e, k))}</p>}
          </li>
        ))}
      </ul>
      <h3>What went well</h3>
      <ul>
        {debrief.strengths.map((s, i) => (
          <li key={i}>{s}</li>
        ))}
      </ul>
      <h3>Try next time</h3>
      <p>{debrief.tryNext}</p>
      <h3>A better version of your weakest message</h3>
      <p className="evidence">{quote(debrief.weakest, "weakest")}</p>
      <p className="better">{debrief.weakest.better}</p>
    </section>
  );
}
