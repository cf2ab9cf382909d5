import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database } from "../db/client.js";
import {
  deleteAdminSession,
  findAdminSession,
  insertAdminSession,
  insertAdminTokenHashIfAbsent,
  readAdminTokenHash,
  replaceAdminTokenHash,
} from "../db/queries/admin-auth.js";

/**
 * A SHA-256 is enough here, not a slow password hash: every secret hashed is 192 random bits
 * (generated tokens, session tokens), or ADMIN_TOKEN, which is compared in memory and never stored.
 */
export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
export const newSecret = () => randomBytes(24).toString("base64url");

export type AdminLogin = { token: string; csrfToken: string; expiresAt: Date };
export type AdminSession = { csrfToken: string; expiresAt: Date };

/**
 * Who may use the dashboard: whoever holds the admin token (ADMIN_TOKEN, or the one generated on
 * first start and stored as a hash), directly as a Bearer token or through a login's session.
 * Sessions live in the database, so a login works on every instance sharing it.
 */
export class AdminAuth {
  private readonly envHash: string | undefined;

  constructor(
    envToken: string | undefined,
    private readonly sessionMs: number,
  ) {
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** With no ADMIN_TOKEN and no stored hash, makes a token and returns it (once, to be printed). */
  async ensureToken(db: Database): Promise<string | undefined> {
    if (this.envHash || (await readAdminTokenHash(db))) return undefined;
    const token = newSecret();
    return (await insertAdminTokenHashIfAbsent(db, sha256(token))) ? token : undefined;
  }

  /** Replaces the stored token with a new one and ends every login (the reset script). */
  static async resetToken(db: Database): Promise<string> {
    const token = newSecret();
    await replaceAdminTokenHash(db, sha256(token));
    return token;
  }

  async verifyToken(db: Database | undefined, token: string): Promise<boolean> {
    // Read on every check rather than cached: a reset on one instance holds on all of them at once.
    const expected = this.envHash ?? (db ? await readAdminTokenHash(db) : undefined);
    return expected !== undefined && sameHash(sha256(token), expected);
  }

  async login(db: Database): Promise<AdminLogin> {
    const token = newSecret();
    const csrfToken = newSecret();
    const expiresAt = new Date(Date.now() + this.sessionMs);
    await insertAdminSession(db, { tokenHash: sha256(token), csrfToken, expiresAt });
    return { token, csrfToken, expiresAt };
  }

  async session(db: Database, token: string): Promise<AdminSession | undefined> {
    const row = await findAdminSession(db, sha256(token));
    return row ? { csrfToken: row.csrfToken, expiresAt: row.expiresAt } : undefined;
  }

  logout(db: Database, token: string): Promise<void> {
    return deleteAdminSession(db, sha256(token));
  }

  static csrfMatches(expected: string, given: string | undefined): boolean {
    return given !== undefined && sameHash(sha256(given), sha256(expected));
  }
}
