// Builds the browser tests' page (spec-app/) from the workspace sources; the output
// directory comes from HERALD_E2E_OUT.
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: fileURLToPath(new URL('./spec-app', import.meta.url)),
  plugins: [react()],
  resolve: { conditions: ['herald-source', ...defaultClientConditions] },
  build: { outDir: process.env.HERALD_E2E_OUT, emptyOutDir: true, chunkSizeWarningLimit: 5000 },
  logLevel: 'warn',
});
