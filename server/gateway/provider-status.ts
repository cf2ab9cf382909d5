/** What an admin needs to fix about a provider: set from its answers, cleared by a success. */
export type ProviderCondition = "ok" | "payment_required" | "misconfigured";

export type ProviderStatusEntry = { condition: ProviderCondition; model?: string; lastError?: string; at: string };

/**
 * Conditions a provider's own answers reveal: 402 (out of credit) and 401/403 (our key is wrong).
 * They do not stop routing — credit can be topped up, a key fixed — but they are shown to admins.
 */
export class ProviderStatus {
  private entries = new Map<string, ProviderStatusEntry>();

  mark(provider: string, condition: ProviderCondition, model?: string, lastError?: string): void {
    this.entries.set(provider, {
      condition,
      ...(model ? { model } : {}),
      ...(lastError ? { lastError } : {}),
      at: new Date().toISOString(),
    });
  }

  /**
   * A success clears what it disproves: any answer proves the key works, but only the same model
   * answering proves the credit is back (OpenRouter answers 402 for a paid model while free ones work).
   */
  ok(provider: string, model: string): void {
    const e = this.entries.get(provider);
    if (!e || e.condition === "ok") return;
    if (e.condition === "misconfigured" || e.model === model) this.mark(provider, "ok");
  }

  get(provider: string): ProviderStatusEntry | undefined {
    return this.entries.get(provider);
  }

  snapshot(): Record<string, ProviderStatusEntry> {
    return Object.fromEntries(this.entries);
  }
}
