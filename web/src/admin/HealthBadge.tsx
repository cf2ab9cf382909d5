const LABELS: Record<string, [string, "ok" | "warn" | "bad" | "off"]> = {
  healthy: ["healthy", "ok"],
  failing: ["failing", "warn"],
  circuit_open: ["circuit open", "bad"],
  payment_required: ["payment required", "bad"],
  misconfigured: ["misconfigured", "bad"],
  inactive: ["inactive", "off"],
  closed: ["closed", "ok"],
  half_open: ["half open", "warn"],
  open: ["open", "bad"],
};

export function HealthBadge({ state }: { state: string }) {
  const [label, tone] = LABELS[state] ?? [state, "off"];
  return <span className={`badge ${tone}`}>{label}</span>;
}
