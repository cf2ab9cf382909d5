import type { ScenarioPage } from "../api/client";
import type { Progress } from "./api";
import { ScoreChart } from "./ScoreChart";

/** What a practice scenario asks of the person, how far they are, and how their attempts went. */
export function PracticePanel({ scenario, turns, progress }: { scenario: ScenarioPage; turns: number; progress: Progress | null }) {
  const attempts = progress?.attempts ?? [];
  return (
    <details className="practice-panel" open={turns === 0} data-testid="practice-panel">
      <summary>
        <strong>Your objectives</strong>
        {scenario.difficulty && <span className={`badge difficulty-${scenario.difficulty}`}>{scenario.difficulty}</span>}
        {scenario.turnLimit && (
          <span className="muted" data-testid="turn-count">
            {" "}
            · turn {Math.min(turns, scenario.turnLimit)} of {scenario.turnLimit}
          </span>
        )}
        {attempts.length > 0 && <span className="muted"> · last score {attempts.at(-1)!.score}</span>}
      </summary>
      <ol className="objectives">
        {scenario.objectives.map((o) => (
          <li key={o}>{o}</li>
        ))}
      </ol>
      {attempts.length > 0 && (
        <div className="progress" data-testid="practice-progress">
          <span className="muted">
            Your scores over {attempts.length} attempt{attempts.length === 1 ? "" : "s"}:
          </span>
          <ScoreChart scores={attempts.map((a) => a.score)} />
          {progress?.mostMissed && (
            <p className="muted">
              Most often missed: <strong>{progress.mostMissed.objective}</strong> ({progress.mostMissed.missed}×)
            </p>
          )}
        </div>
      )}
    </details>
  );
}
