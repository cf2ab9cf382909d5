import type { KeyboardEvent } from "react";

/** A touch screen without a mouse: its keyboard has no Shift+Enter, so Enter must add a line there. */
export const touchOnly = (): boolean => window.matchMedia?.("(hover: none) and (pointer: coarse)").matches ?? false;

/**
 * Whether Enter in a message's text sends (or saves) it rather than adding a line: Enter does
 * with a keyboard, Shift+Enter never, Ctrl or Cmd+Enter always; never while an input method is
 * still composing (its Enter picks the characters).
 */
export function enterSends(e: KeyboardEvent<HTMLTextAreaElement>, touch: boolean): boolean {
  if (e.key !== "Enter" || e.nativeEvent.isComposing) return false;
  return e.ctrlKey || e.metaKey || (!e.shiftKey && !touch);
}
