/**
 * Builds the page (client/) into dist/client, which the Worker serves as static assets.
 * Module workers are bundled from `new URL('./x.worker.ts', import.meta.url)`.
 * LiteRT.js's wasm runtime (the plain and the relaxed-SIMD build: the page never asks for its threaded or JSPI
 * ones) is copied from the package to /litert/, where the TFLite check worker loads it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const LITERT_FILES = ['litert_wasm_internal.js', 'litert_wasm_internal.wasm', 'litert_wasm_compat_internal.js', 'litert_wasm_compat_internal.wasm'];

function liteRtWasm(): Plugin {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm');
  return {
    name: 'graft-litert-wasm',
    apply: 'build',
    generateBundle() {
      for (const name of LITERT_FILES) this.emitFile({ type: 'asset', fileName: `litert/${name}`, source: readFileSync(join(dir, name)) });
    },
  };
}

export default defineConfig({
  root: 'client',
  publicDir: 'public',
  plugins: [liteRtWasm()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Bundling the workers (vite's own new URL('…worker.ts') plugin) is most of the build, and rolldown said so on
    // every build, `npm start`'s included: a note nothing here acts on.
    rolldownOptions: { checks: { bundlerTimings: false } },
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
