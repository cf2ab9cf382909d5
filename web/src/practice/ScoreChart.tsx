/** Scores over attempts, oldest first, as a small line with a dot per attempt: no chart library for a handful of points. */
export function ScoreChart({ scores, width = 220, height = 64 }: { scores: number[]; width?: number; height?: number }) {
  if (scores.length === 0) return null;
  const pad = 8;
  const x = (i: number) => (scores.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (scores.length - 1));
  const y = (score: number) => height - pad - (score / 100) * (height - 2 * pad);
  const points = scores.map((s, i) => `${x(i)},${y(s)}`).join(" ");
  return (
    <svg
      className="score-chart"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Scores over ${scores.length} attempt${scores.length === 1 ? "" : "s"}: ${scores.join(", ")}`}
      data-testid="score-chart"
    >
      <line x1={pad} x2={width - pad} y1={y(50)} y2={y(50)} className="score-chart-mid" />
      {scores.length > 1 && <polyline points={points} fill="none" className="score-chart-line" />}
      {scores.map((s, i) => (
        <circle key={i} cx={x(i)} cy={y(s)} r={3.5} className="score-chart-dot" data-score={s}>
          <title>{`Attempt ${i + 1}: ${s}`}</title>
        </circle>
      ))}
    </svg>
  );
}
