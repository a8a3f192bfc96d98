/**
 * A real TFLite runtime for Node-side checks: LiteRT.js (@litertjs/core, its own wasm build) in headless Chromium,
 * on a blank page served by a small local HTTP server (the package's files, plus the model and input bytes the
 * caller hands over). Used by the tests of the TFLite writer and by `npm run eval -- --export tflite-*`.
 *
 * The function handed to page.evaluate runs in the browser: it may only use its argument and the page's globals.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { launchChromium, type Chromium } from './chromium';

const require = createRequire(import.meta.url);
const CORE_DIST = dirname(require.resolve('@litertjs/core'));
const UTILS_DIST = dirname(require.resolve('@litertjs/wasm-utils'));
const STATIC: Record<string, string> = {
  '/litert/core/': CORE_DIST,
  '/litert/wasm-utils/': UTILS_DIST,
  '/litert/wasm/': join(CORE_DIST, '..', 'wasm'),
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>LiteRT.js</title>
<script type="importmap">{"imports": {"@litertjs/core": "/litert/core/index.js", "@litertjs/wasm-utils": "/litert/wasm-utils/index.js"}}</script>
<script type="module">
globalThis.liteRt = import('@litertjs/core').then(async (module) => { await module.loadLiteRt('/litert/wasm/'); return module; });
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
}

export interface LiteRtRun {
  input: TensorInfo;
  output: TensorInfo;
  /** One output (float32 values) per input. */
  outputs: Float32Array[];
  /** Wall time of run() calls alone, per image. */
  msPerImage: number;
}

export interface LiteRtBrowser {
  /**
   * Runs `model` on each input (one image each, [1, ...shape]) on LiteRT's wasm CPU path. The model is compiled
   * on its first run and kept for the next ones until release(model).
   */
  run(model: Uint8Array, inputs: (Float32Array | Uint8Array)[]): Promise<LiteRtRun>;
  release(model: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function openLiteRtBrowser(): Promise<LiteRtBrowser> {
  const blobs = new Map<string, Uint8Array>();
  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (path === '/') {
      response.setHeader('Content-Type', 'text/html');
      response.end(PAGE);
      return;
    }
    const blob = blobs.get(path);
    if (blob) {
      response.setHeader('Content-Type', 'application/octet-stream');
      response.end(blob);
      return;
    }
    const prefix = Object.keys(STATIC).find((p) => path.startsWith(p));
    const file = prefix && normalize(join(STATIC[prefix], path.slice(prefix.length)));
    if (!file || !file.startsWith(STATIC[prefix!])) {
      response.statusCode = 404;
      response.end();
      return;
    }
    try {
      const bytes = await readFile(file);
      response.setHeader('Content-Type', TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream');
      response.end(bytes);
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let chrome: Chromium | null = null;
  try {
    chrome = await launchChromium();
    await chrome.context.addInitScript('globalThis.__name ??= (fn) => fn;');
    const page = await chrome.context.newPage();
    await page.goto(`${origin}/`);
    let runs = 0;
    const modelIds = new WeakMap<Uint8Array, number>();
    const opened = chrome;
    return {
      async run(model, inputs) {
        const id = runs++;
        let modelId = modelIds.get(model);
        if (modelId === undefined) {
          modelIds.set(model, (modelId = id));
          blobs.set(`/model/${modelId}`, model);
        }
        const size = inputs[0]?.byteLength ?? 0;
        if (inputs.some((x) => x.byteLength !== size || x.constructor !== inputs[0].constructor)) throw new Error('inputs must all have one type and size');
        const all = new Uint8Array(size * inputs.length);
        inputs.forEach((x, i) => all.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), i * size));
        blobs.set(`/run/${id}/inputs`, all);
        try {
          const result = await page.evaluate(
            async ({ modelId, inputsUrl, count, uint8 }) => {
              // The page's module script loads LiteRT once (vitest would rewrite an import() written here).
              type LiteRt = typeof import('@litertjs/core');
              type Compiled = Awaited<ReturnType<LiteRt['loadAndCompile']>>;
              const global = globalThis as unknown as { liteRt: Promise<LiteRt>; compiled?: Map<number, Promise<Compiled>> };
              const { loadAndCompile, Tensor } = await global.liteRt;
              const compiledModels = (global.compiled ??= new Map());
              let compiling = compiledModels.get(modelId);
              if (!compiling) {
                compiling = fetch(`/model/${modelId}`)
                  .then((response) => response.arrayBuffer())
                  .then((bytes) => loadAndCompile(new Uint8Array(bytes), { accelerator: 'wasm' }));
                compiledModels.set(modelId, compiling);
              }
              const compiled = await compiling;
              const data = await (await fetch(inputsUrl)).arrayBuffer();
              const details = (d: { name: string; dtype: string; shape: Int32Array }) => ({ name: d.name, dtype: d.dtype, shape: Array.from(d.shape) });
              const input = details(compiled.getInputDetails()[0]);
              const output = details(compiled.getOutputDetails()[0]);
              const per = data.byteLength / count;
              const outputs: number[][] = [];
              let ms = 0;
              for (let i = 0; i < count; i++) {
                const values = uint8 ? new Uint8Array(data, i * per, per) : new Float32Array(data, i * per, per / 4);
                const tensor = new Tensor(values, input.shape);
                const start = performance.now();
                const [result] = await compiled.run(tensor);
                ms += performance.now() - start;
                outputs.push(Array.from(result.toTypedArray() as Float32Array));
                result.delete();
                tensor.delete();
              }
              return { input, output, outputs, ms };
            },
            { modelId, inputsUrl: `/run/${id}/inputs`, count: inputs.length, uint8: inputs[0] instanceof Uint8Array },
          );
          return {
            input: result.input,
            output: result.output,
            outputs: result.outputs.map((o) => Float32Array.from(o)),
            msPerImage: inputs.length ? result.ms / inputs.length : 0,
          };
        } finally {
          blobs.delete(`/run/${id}/inputs`);
        }
      },
      async release(model) {
        const modelId = modelIds.get(model);
        if (modelId === undefined) return;
        modelIds.delete(model);
        blobs.delete(`/model/${modelId}`);
        await page.evaluate(async (id) => {
          const global = globalThis as unknown as { compiled?: Map<number, Promise<{ delete(): void }>> };
          const compiled = global.compiled?.get(id);
          global.compiled?.delete(id);
          (await compiled?.catch(() => null))?.delete();
        }, modelId);
      },
      async close() {
        await opened.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } catch (error) {
    await chrome?.close();
    server.close();
    throw error;
  }
}
