/**
 * Builds the pages (client/) into dist/client, which the Worker serves as static assets: the trainer's page
 * (client/index.html) and the classify-only page of a publication (client/m/index.html -> /m/index.html, served for
 * every /m/<id> by client/public/_redirects).
 * Module workers are bundled from `new URL('./x.worker.ts', import.meta.url)`.
 * LiteRT.js's wasm runtime (the relaxed-SIMD build, the compat build for browsers without relaxed SIMD, and the
 * threaded one; never JSPI) is copied from the package to /litert/, where the TFLite check worker loads it as
 * classic scripts. Each Emscripten loader script also gets an ES-module twin (`.mjs`: the same text with
 * `export default ModuleFactory`), which module workers import (client/engine/litert.ts): they cannot run
 * classic scripts, and the CSP allows no eval.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const LITERT_BUILDS = ['litert_wasm_internal', 'litert_wasm_compat_internal', 'litert_wasm_threaded_internal'];

function liteRtWasm(): Plugin {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm');
  return {
    name: 'graft-litert-wasm',
    apply: 'build',
    generateBundle() {
      for (const build of LITERT_BUILDS) {
        const loader = readFileSync(join(dir, `${build}.js`), 'utf8');
        this.emitFile({ type: 'asset', fileName: `litert/${build}.js`, source: loader });
        this.emitFile({ type: 'asset', fileName: `litert/${build}.mjs`, source: `${loader}\nexport default ModuleFactory;\n` });
        this.emitFile({ type: 'asset', fileName: `litert/${build}.wasm`, source: readFileSync(join(dir, `${build}.wasm`)) });
      }
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
    rolldownOptions: {
      input: { main: resolve(import.meta.dirname, 'client/index.html'), m: resolve(import.meta.dirname, 'client/m/index.html') },
      checks: { bundlerTimings: false },
    },
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
