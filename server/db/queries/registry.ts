import type { Database } from "../client.js";
import { apiModels, apiProviders } from "../schema.js";

/** Every provider and model row, for the gateway's in-memory registry. */
export async function loadRegistryRows(db: Database) {
  const [providers, models] = await Promise.all([db.select().from(apiProviders), db.select().from(apiModels)]);
  return { providers, models };
}
