/**
 * `npm run admin:token`: makes a new admin token, stores its hash in place of the old one, ends
 * every admin login, and prints the token once. On the embedded database, stop Parley first (PGlite
 * allows one process); on Postgres it can run beside the instances, which take the new token at once.
 */
import { AdminAuth } from "../server/admin/auth.js";
import { ConfigError, loadConfig } from "../server/config.js";
import { openDatabase } from "../server/db/client.js";

try {
  const config = loadConfig();
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const token = await AdminAuth.resetToken(handle.db);
    process.stdout.write(`New admin token (shown this once; only its hash is stored):\n\n    ${token}\n\nEvery admin login made with the old one has ended.\n`);
    if (config.adminToken) process.stdout.write("Note: ADMIN_TOKEN is set in this environment, and wherever it is set it is the token that counts.\n");
  } finally {
    await handle.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `admin:token failed: ${(err as Error).message}`);
  process.exit(1);
}
