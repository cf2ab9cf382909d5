import { defineConfig } from "drizzle-kit";

// Migrations are generated from server/db/schema.ts and applied at start-up (server/db/client.ts),
// the same SQL on PGlite and on Postgres.
export default defineConfig({
  dialect: "postgresql",
  schema: "./server/db/schema.ts",
  out: "./server/db/migrations",
});
