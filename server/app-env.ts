/** What middleware puts on Hono's context for the routes. */
export type AppEnv = { Variables: { clientId: string } };
