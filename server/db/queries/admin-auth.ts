import { and, eq, gt, lt } from "drizzle-orm";
import type { Database } from "../client.js";
import { adminSessions, systemConfig } from "../schema.js";

/** system_config key of the generated admin token's hash (the token itself is never stored). */
const TOKEN_KEY = "adminTokenHash";

export async function readAdminTokenHash(db: Database): Promise<string | undefined> {
  const [row] = await db.select({ value: systemConfig.value }).from(systemConfig).where(eq(systemConfig.key, TOKEN_KEY));
  return (row?.value as { sha256?: string } | undefined)?.sha256;
}

/** Stores a new hash, and ends every login made with the old token. */
export async function replaceAdminTokenHash(db: Database, sha256: string): Promise<void> {
  await db.transaction(async (tx) => {
    const value = { sha256, createdAt: new Date().toISOString() };
    await tx.insert(systemConfig).values({ key: TOKEN_KEY, value }).onConflictDoUpdate({ target: systemConfig.key, set: { value, updatedAt: new Date() } });
    await tx.delete(adminSessions);
  });
}

/** Stores the first hash only: of several instances starting at once, one wins and the rest keep its token. */
export async function insertAdminTokenHashIfAbsent(db: Database, sha256: string): Promise<boolean> {
  const rows = await db
    .insert(systemConfig)
    .values({ key: TOKEN_KEY, value: { sha256, createdAt: new Date().toISOString() } })
    .onConflictDoNothing()
    .returning({ key: systemConfig.key });
  return rows.length > 0;
}

export async function insertAdminSession(db: Database, row: typeof adminSessions.$inferInsert): Promise<void> {
  // Expired logins are swept as new ones are made; there are few, and no timer is needed.
  await db.delete(adminSessions).where(lt(adminSessions.expiresAt, new Date()));
  await db.insert(adminSessions).values(row);
}

export async function findAdminSession(db: Database, tokenHash: string) {
  const [row] = await db
    .select()
    .from(adminSessions)
    .where(and(eq(adminSessions.tokenHash, tokenHash), gt(adminSessions.expiresAt, new Date())));
  return row;
}

export async function deleteAdminSession(db: Database, tokenHash: string): Promise<void> {
  await db.delete(adminSessions).where(eq(adminSessions.tokenHash, tokenHash));
}

/** system_config key of the key that signs browsers' client ids. */
const CLIENT_KEY = "clientIdSigningKey";

/** The signing key every instance shares: the first instance to start makes it, the rest read it. */
export async function clientIdSigningKey(db: Database, generate: () => string): Promise<string> {
  await db.insert(systemConfig).values({ key: CLIENT_KEY, value: { key: generate() } }).onConflictDoNothing();
  const [row] = await db.select({ value: systemConfig.value }).from(systemConfig).where(eq(systemConfig.key, CLIENT_KEY));
  return (row!.value as { key: string }).key;
}
