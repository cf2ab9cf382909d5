import { useCallback, useEffect, useState } from "react";

/**
 * A wait the server asked for (Retry-After): when it ends, and the whole seconds left, ticking
 * down once a second until it is over.
 */
export function useCooldown() {
  const [until, setUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (until === null) return;
    const tick = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= until) setUntil(null);
    }, 1000);
    return () => clearInterval(tick);
  }, [until]);

  const start = useCallback((seconds: number) => {
    const t = Date.now();
    setNow(t);
    setUntil((prev) => Math.max(prev ?? 0, t + seconds * 1000));
  }, []);

  const secondsLeft = until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
  return { until: secondsLeft > 0 ? until : null, secondsLeft, start };
}
