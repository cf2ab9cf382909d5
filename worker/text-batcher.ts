/**
 * Groups generated text into fewer stream events when tokens come faster than `intervalMs` apart.
 * A slow model (tens of tokens a second) still sends every token at once; a fast one sends a few
 * tokens per event instead of one, which spares both ends a JSON chunk per token. Nothing is held
 * longer than `intervalMs`.
 */
export function createTextBatcher(send: (text: string) => void, intervalMs: number) {
  let pending = "";
  let lastSent = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    lastSent = performance.now();
    send(text);
  };
  return {
    push(text: string) {
      if (text === "") return;
      pending += text;
      if (timer) return;
      const wait = lastSent + intervalMs - performance.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    /** Sends what is left (before the final chunk), or drops it when the client is gone. */
    flush,
    cancel() {
      clearTimeout(timer);
      pending = "";
    },
  };
}
