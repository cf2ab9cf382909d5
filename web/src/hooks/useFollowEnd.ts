import { useCallback, useEffect, useRef } from "react";

/** Within this of the page's end, the person is reading the end (a rounding pixel or two). */
const AT_END_PX = 8;
/** Keys that move the page up when the focus is not in a field. */
const UP_KEYS = new Set(["ArrowUp", "PageUp", "Home"]);

const distanceToEnd = () => document.documentElement.scrollHeight - (window.scrollY + window.innerHeight);
const scrollToEnd = () => window.scrollTo({ top: document.documentElement.scrollHeight });

/**
 * Keeps the end of the thread on screen while it grows — a reply streaming in, then the list
 * measuring the message it became, a notice below it — for as long as the person is at the end.
 *
 * Only the person's own scrolling (wheel, touch, keys, the scrollbar) lets go: the page also moves
 * on its own (clamped when the streaming bubble gives way to the stored message, moved by the
 * list while it measures), and a scroll event cannot tell those apart. Coming back to the end, or
 * sending, follows again.
 */
export function useFollowEnd(content: HTMLElement | null) {
  const following = useRef(true);

  useEffect(() => {
    let holding = false; // a finger on the screen, or the mouse on the page's scrollbar
    const letGo = () => (following.current = false);
    const onWheel = (e: WheelEvent) => e.deltaY < 0 && letGo();
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (UP_KEYS.has(e.key) && !t?.closest("input, textarea, select, [contenteditable]")) letGo();
    };
    const onTouch = () => (holding = true); // not a pointer event: the browser cancels those once it pans
    const onPress = (e: PointerEvent) => {
      // A press on the page's own scrollbar lands on <html>, right of its client area.
      if (e.target === document.documentElement && e.clientX >= document.documentElement.clientWidth) holding = true;
    };
    const onRelease = () => (holding = false);
    const onScroll = () => {
      if (distanceToEnd() <= AT_END_PX) following.current = true;
      else if (holding) letGo();
    };
    const listeners = [
      ["wheel", onWheel],
      ["keydown", onKey],
      ["touchstart", onTouch],
      ["touchend", onRelease],
      ["touchcancel", onRelease],
      ["pointerdown", onPress],
      ["pointerup", onRelease],
      ["scroll", onScroll],
    ] as const;
    for (const [type, fn] of listeners) window.addEventListener(type, fn as EventListener, { passive: true });
    return () => {
      for (const [type, fn] of listeners) window.removeEventListener(type, fn as EventListener);
    };
  }, []);

  useEffect(() => {
    if (!content) return;
    const observer = new ResizeObserver(() => {
      if (following.current && distanceToEnd() > 0) scrollToEnd();
    });
    observer.observe(content);
    return () => observer.disconnect();
  }, [content]);

  /** Back to the end, following again: the person sent something and wants to see it answered. */
  const follow = useCallback(() => {
    following.current = true;
    scrollToEnd();
  }, []);
  /** Stops following: the page was taken elsewhere on purpose (a debrief's quote). */
  const stop = useCallback(() => {
    following.current = false;
  }, []);
  return { follow, stop };
}
