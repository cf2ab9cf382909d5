import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

/**
 * A "⋯" menu button (WAI-ARIA's menu button pattern). Opening it puts the focus on its first item;
 * the arrow keys, Home and End move between the items; Escape closes it and gives the focus back
 * to the button; so do a click anywhere else and choosing an item. Tab leaves it, closed.
 * The items are the caller's, each with `role="menuitem"`.
 */
export function MoreMenu({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const [open, setOpen] = useState(false);
  const items = () => [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
  const close = (refocus: boolean) => {
    if (!ref.current) return;
    ref.current.open = false;
    if (refocus) ref.current.querySelector("summary")?.focus();
  };
  useEffect(() => {
    if (!open) return;
    items()[0]?.focus();
    const away = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) close(false);
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent<HTMLDetailsElement>) => {
    if (!ref.current?.open) return;
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => {
      e.preventDefault();
      all[(i + all.length) % all.length]?.focus();
    };
    if (e.key === "Escape") {
      e.preventDefault();
      close(true);
    } else if (e.key === "ArrowDown") go(at + 1);
    else if (e.key === "ArrowUp") go(at < 0 ? -1 : at - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(-1);
    else if (e.key === "Tab") close(false);
  };

  return (
    <details
      ref={ref}
      className="menu"
      onToggle={(e) => setOpen(e.currentTarget.open)}
      onKeyDown={onKeyDown}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest('[role="menuitem"]')) close(true);
      }}
    >
      <summary aria-label={label} aria-haspopup="menu">
        ⋯
      </summary>
      <div className="menu-items" role="menu">
        {children}
      </div>
    </details>
  );
}
