import { eq, sql } from "drizzle-orm";
import type { Persona } from "../../../contracts/persona.js";
import type { Database } from "../client.js";
import { personas } from "../schema.js";

/** The client's persona, if they set one. */
export async function getPersona(db: Database, clientId: string): Promise<Persona | undefined> {
  const [row] = await db.select({ name: personas.name, description: personas.description }).from(personas).where(eq(personas.clientId, clientId));
  return row;
}

export async function savePersona(db: Database, clientId: string, persona: Persona): Promise<void> {
  await db
    .insert(personas)
    .values({ clientId, ...persona })
    .onConflictDoUpdate({ target: personas.clientId, set: { ...persona, updatedAt: sql`now()` } });
}
