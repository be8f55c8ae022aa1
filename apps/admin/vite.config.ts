import { defineConfig, defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

/** Where `npm run dev` forwards /api (HTTP and WebSocket); `HERALD_URL` overrides. */
const target = process.env.HERALD_URL ?? 'http://localhost:8000';

export default defineConfig({
  plugins: [react()],
  // Build the workspace packages from their TypeScript sources: no `tsc -b` needed first.
  resolve: { conditions: ['herald-source', ...defaultClientConditions] },
  server: {
    port: 5173,
    proxy: { '/api': { target, changeOrigin: false, ws: true } },
  },
  // The manifest lets a test measure what each page loads (src/e2e/bundle.test.ts).
  build: { outDir: 'dist', emptyOutDir: true, manifest: true },
});
