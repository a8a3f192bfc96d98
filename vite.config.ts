/**
 * Builds the page (client/) into dist/client, which the Worker serves as static assets.
 * Module workers are bundled from `new URL('./x.worker.ts', import.meta.url)`.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'client',
  publicDir: 'public',
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  worker: {
    format: 'es',
    // tfjs's threaded WASM build starts its thread workers from the source text of one of its functions
    // (Function.prototype.toString); minified, that text refers to names that only exist in the bundle.
    rolldownOptions: { output: { minify: false } },
  },
  server: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
});
