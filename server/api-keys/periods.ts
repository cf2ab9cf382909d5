import type { BudgetPeriod } from "../../contracts/api-keys.js";

/**
 * Budget periods, in UTC: a day from midnight, a week from Monday, a month from its first day;
 * `never` is one period from the start of time (the budget is a lifetime cap).
 */
export function periodStart(period: BudgetPeriod, now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (period) {
    case "daily":
      return new Date(Date.UTC(y, m, d));
    case "weekly":
      // getUTCDay: 0 is Sunday; the week starts on Monday.
      return new Date(Date.UTC(y, m, d - ((now.getUTCDay() + 6) % 7)));
    case "monthly":
      return new Date(Date.UTC(y, m, 1));
    case "never":
      return new Date(0);
  }
}

/** When the period's spend goes back to zero; null for `never`. */
export function nextReset(period: BudgetPeriod, now: Date): Date | null {
  const start = periodStart(period, now);
  switch (period) {
    case "daily":
      return new Date(start.getTime() + 86_400_000);
    case "weekly":
      return new Date(start.getTime() + 7 * 86_400_000);
    case "monthly":
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case "never":
      return null;
  }
}
