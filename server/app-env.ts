/** What middleware puts on Hono's context for the routes. */
export type AppEnv = {
  Variables: {
    clientId: string;
    /** The largest body this route reads (routes/validation.ts readJson); set per route group in app.ts. */
    maxBodyBytes?: number;
    /** The route takes a file as its body (application/octet-stream) rather than JSON. */
    binaryBody?: boolean;
  };
};
