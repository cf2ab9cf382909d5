import { z } from "zod";

/**
 * Parley API keys as data: each app or person gets their own key with what it may use, how fast,
 * and how much it may spend. The secret is shown once, at creation (or rotation); the database
 * holds only its hash.
 */

export const BUDGET_PERIODS = ["daily", "weekly", "monthly", "never"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** Every key Parley makes starts so, for secret scanners and for people: `pk-parley-` and 43 characters. */
export const KEY_PREFIX = "pk-parley-";

const limit = (what: string) => z.number().int("A whole number").min(1, `At least 1 ${what}`).max(1_000_000_000).nullable();

export const apiKeyShape = {
  name: z.string().trim().min(1, "Give the key a name").max(80, "At most 80 characters"),
  ownerNote: z.string().trim().max(500, "At most 500 characters"),
  /** Tasks (`roleplay`, `coach`, …) and model keys the key may use; empty: all. */
  allowedTasks: z.array(z.string().trim().min(1)).max(50),
  allowedModels: z.array(z.string().trim().min(1)).max(200),
  rpm: limit("request"),
  tpm: limit("token"),
  budgetUsd: z.number().min(0, "A budget is not negative").max(1_000_000).nullable(),
  budgetPeriod: z.enum(BUDGET_PERIODS, `Choose ${BUDGET_PERIODS.join(", ")}`),
  expiresAt: z.iso.datetime({ offset: true, error: "A date and time, as 2027-01-31T00:00:00Z" }).nullable(),
  enabled: z.boolean(),
};

export const apiKeyCreateSchema = z
  .object({
    ...apiKeyShape,
    ownerNote: apiKeyShape.ownerNote.default(""),
    allowedTasks: apiKeyShape.allowedTasks.default([]),
    allowedModels: apiKeyShape.allowedModels.default([]),
    rpm: apiKeyShape.rpm.default(null),
    tpm: apiKeyShape.tpm.default(null),
    budgetUsd: apiKeyShape.budgetUsd.default(null),
    budgetPeriod: apiKeyShape.budgetPeriod.default("monthly"),
    expiresAt: apiKeyShape.expiresAt.default(null),
    enabled: apiKeyShape.enabled.default(true),
  })
  .strict();
export const apiKeyPatchSchema = z.object(apiKeyShape).partial().strict();
export type ApiKeyInput = z.infer<typeof apiKeyCreateSchema>;

/** A key as the dashboard shows it: never its secret, its prefix to recognise it by. */
export type ApiKeyView = Omit<ApiKeyInput, "expiresAt"> & {
  id: string;
  /** The secret's first characters (`pk-parley-AbC1`), enough to tell keys apart. */
  prefix: string;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
  /** Revoked for good: it never works again. */
  revoked: boolean;
  /** This period's spend, and what is left of the budget (null: no budget). */
  spentUsd: number;
  remainingUsd: number | null;
  /** When the period's spend goes back to zero (null: never). */
  resetsAt: Date | null;
};
