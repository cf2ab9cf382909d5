import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const apiTarget = `http://127.0.0.1:${process.env.PORT ?? 3000}`;

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // The admin chunk (zod and the chart library) is loaded only by /admin, never by the chat pages.
    chunkSizeWarningLimit: 600,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    // The dev loop: Vite serves the SPA with hot reload, the API server answers the rest.
    proxy: { "/api": apiTarget, "/avatars": apiTarget, "/v1": apiTarget },
  },
});
