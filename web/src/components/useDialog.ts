import { useEffect, useRef, type KeyboardEvent } from "react";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
const FIELDS = "input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])";

/**
 * What a keyboard user expects of a dialog: focus moves into it (its first field, else its first
 * button), Tab stays inside it, Escape closes it, and focus goes back to where it was. The keys are
 * handled on the dialog itself, so a dialog opened inside another closes alone.
 */
export function useDialog<T extends HTMLElement>(onClose: () => void) {
  const ref = useRef<T>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const box = ref.current;
    const first = box?.querySelector<HTMLElement>(FIELDS) ?? box?.querySelector<HTMLElement>(FOCUSABLE) ?? box;
    first?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent<T>) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== "Tab" || !ref.current) return;
    const all = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!all.length) return;
    const [head, tail] = [all[0]!, all[all.length - 1]!];
    if (e.shiftKey && document.activeElement === head) {
      e.preventDefault();
      tail.focus();
    } else if (!e.shiftKey && document.activeElement === tail) {
      e.preventDefault();
      head.focus();
    }
    e.stopPropagation();
  };
  return { ref, onKeyDown };
}
