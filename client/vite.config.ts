/**
 * Vite build of the demo page: root is client/, output client/dist, and a relative base so the
 * bundle works wherever fastify mounts it (server/http serves client/dist statically).
 * `npm run build:client`, or server/http/client-bundle.ts through vite's build() API.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  // The page has no public/ folder; keep Vite from picking up one elsewhere.
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Pixi is one large chunk by design; the warning would only be noise.
    chunkSizeWarningLimit: 2048,
    sourcemap: true,
    // The pages: the game (index.html), the lobby and the spectators' watch page.
    rollupOptions: {
      input: {
        index: `${import.meta.dirname}/index.html`,
        lobby: `${import.meta.dirname}/lobby.html`,
        watch: `${import.meta.dirname}/watch.html`,
      },
    },
  },
});
