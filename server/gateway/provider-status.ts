/** What an admin needs to fix about a provider: set from its answers, cleared by a success. */
export type ProviderCondition = "ok" | "payment_required" | "misconfigured";

export type ProviderStatusEntry = { condition: ProviderCondition; lastError?: string; at: string };

/**
 * Conditions a provider's own answers reveal: 402 (out of credit) and 401/403 (our key is wrong).
 * They do not stop routing — credit can be topped up, a key fixed — but they are shown to admins.
 */
export class ProviderStatus {
  private entries = new Map<string, ProviderStatusEntry>();

  mark(provider: string, condition: ProviderCondition, lastError?: string): void {
    this.entries.set(provider, { condition, ...(lastError ? { lastError } : {}), at: new Date().toISOString() });
  }

  ok(provider: string): void {
    const e = this.entries.get(provider);
    if (e && e.condition !== "ok") this.mark(provider, "ok");
  }

  get(provider: string): ProviderStatusEntry | undefined {
    return this.entries.get(provider);
  }

  snapshot(): Record<string, ProviderStatusEntry> {
    return Object.fromEntries(this.entries);
  }
}
