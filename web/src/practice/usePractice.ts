import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { practice, type Debrief, type Progress } from "./api";

/**
 * A practice conversation's hints, debriefs and the person's progress at its scenario. Nothing
 * here touches the thread: a hint is shown apart from it, a debrief below it.
 */
export function usePractice(slug: string, sessionId: string | null, enabled: boolean) {
  const [debriefs, setDebriefs] = useState<Debrief[]>([]);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [hint, setHint] = useState<string | null>(null);
  const [busy, setBusy] = useState<"hint" | "debrief" | null>(null);
  const [error, setError] = useState<{ message: string; retryAfterS?: number } | null>(null);

  // Only the latest request's answer is shown: the one on opening can arrive after the one a
  // debrief asked for, and would put back the chart without the attempt just finished.
  const latestProgress = useRef(0);
  const loadProgress = useCallback(() => {
    if (!enabled) return;
    const ask = ++latestProgress.current;
    practice.progress(slug).then((r) => ask === latestProgress.current && setProgress(r.progress), () => {});
  }, [enabled, slug]);
  useEffect(loadProgress, [loadProgress]);

  useEffect(() => {
    setDebriefs([]);
    setHint(null);
    if (!enabled || !sessionId) return;
    let cancelled = false;
    practice.debriefs(sessionId).then(
      (r) => !cancelled && setDebriefs(r.debriefs),
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [enabled, sessionId]);

  const run = async <T,>(what: "hint" | "debrief", call: () => Promise<T>): Promise<T | undefined> => {
    setBusy(what);
    setError(null);
    try {
      return await call();
    } catch (err) {
      setError({ message: (err as Error).message, ...(err instanceof ApiError && err.retryAfterS ? { retryAfterS: err.retryAfterS } : {}) });
      return undefined;
    } finally {
      setBusy(null);
    }
  };

  const askHint = async () => {
    if (!sessionId) return;
    const r = await run("hint", () => practice.hint(sessionId));
    if (r) setHint(r.hint);
  };

  const finish = async () => {
    if (!sessionId) return;
    const r = await run("debrief", () => practice.debrief(sessionId));
    if (r) {
      setDebriefs((d) => [...d, r.debrief]);
      loadProgress();
    }
  };

  return { debriefs, progress, hint, dismissHint: () => setHint(null), busy, error, dismissError: () => setError(null), askHint, finish };
}
