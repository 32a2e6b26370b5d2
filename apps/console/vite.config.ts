import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const here = path.dirname(fileURLToPath(import.meta.url));

// Served by the API under /console (apps/api/src/console/console-ui.ts). The client is compiled from its
// sources so that the browser bundle gets ES modules and only what the console uses.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  resolve: { alias: { '@jobs/client': path.join(here, '..', '..', 'packages', 'client', 'src', 'index.ts') } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, reportCompressedSize: true },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.tsx', 'test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
  },
});
