/**
 * LiteRT.js (@litertjs/core: TFLite on XNNPACK in wasm, or on WebGPU) for Graft's workers: loads the runtime once
 * per worker, compiles a .tflite file from bytes for an accelerator, runs it on float32 (or uint8) inputs and
 * frees every tensor it made, and turns each failure into a LiteRtError that says in words which step failed and
 * why. Used by the farm (the frozen base) and the classifier worker (client/classifier/); imports nothing of Graft.
 *
 * Loading in a module worker. LiteRT's loader runs its Emscripten script with importScripts() (or a <script>
 * tag), which module workers do not have, and the page's CSP allows no eval. The build ships each loader script
 * twice under /litert/ (vite.config.ts): as is, and as an ES module (`.mjs`) exporting its ModuleFactory. This
 * module imports the `.mjs`, hands its factory to LiteRT the way the classic script would have (a global
 * ModuleFactory), and answers LiteRT's importScripts() call for that script with a stand-in while it loads.
 * The threaded build's pthreads are classic workers of the classic script (Module.mainScriptUrlOrBlob).
 */
import { loadAndCompile, loadLiteRt, supportsFeature, Tensor, type CompiledModel } from '@litertjs/core';

/** Where the build puts LiteRT's loader scripts and wasm files (vite.config.ts). */
export const LITERT_PATH = '/litert/';

export type LiteRtAccelerator = 'wasm' | 'webgpu';

/** Which of LiteRT's wasm builds runs, and what it offers. */
export interface LiteRtRuntime {
  /** 'relaxed-simd' (the default build), 'threaded' (relaxed SIMD + pthreads) or 'compat' (no relaxed SIMD). */
  build: 'relaxed-simd' | 'threaded' | 'compat';
  /** A WebGPU device LiteRT may compile for (an adapter was found). */
  webGpu: boolean;
}

export interface LiteRtLoadOptions {
  /** Load the threaded build (needs cross-origin isolation and relaxed SIMD); else one thread. */
  threads: boolean;
  /** Use relaxed SIMD where the browser has it; false loads the compat build (for comparing the two). */
  relaxedSimd: boolean;
}

/** A step of LiteRT that failed, and why, in words the page shows. */
export class LiteRtError extends Error {
  constructor(
    readonly step: 'load' | 'compile' | 'run',
    cause: unknown,
  ) {
    const what = { load: 'did not load', compile: 'could not compile the model', run: 'failed while running the model' }[step];
    super(`LiteRT.js ${what}: ${describe(cause)}`);
    this.name = 'LiteRtError';
  }
}

/** An error in words: LiteRT's C++ log prefixes ("ERROR: [file.cc:245]", tree marks) and line breaks removed. */
function describe(error: unknown): string {
  const raw = error instanceof Error ? error.message || error.name : typeof error === 'number' ? `wasm abort ${error}` : String(error);
  const words = raw.replace(/(ERROR|WARNING|INFO): \[[^\]]*\]/g, '').replace(/[└─│\s]+/g, ' ').trim();
  return words || 'it gave no reason (the browser console has its log)';
}

/**
 * LiteRT's C++ log goes to stderr, which Emscripten prints with console.error: its start-up INFO lines and the
 * NPU "could not be loaded" WARNING would read as errors in every visitor's console. Only its ERROR lines are.
 */
function printLiteRtLog(line: string): void {
  if (/^(INFO|WARNING|VERBOSE):/.test(line)) console.debug(line);
  else console.error(line);
}

type Glue = { ModuleFactory?: unknown; Module?: unknown; importScripts?: (...urls: string[]) => void };

let loading: Promise<LiteRtRuntime> | null = null;

/** Loads LiteRT once per worker (later calls get the first load's answer; a failed load may be tried again). */
export function loadLiteRtOnce(options: LiteRtLoadOptions): Promise<LiteRtRuntime> {
  loading ??= load(options).catch((error: unknown) => {
    loading = null;
    throw error instanceof LiteRtError ? error : new LiteRtError('load', error);
  });
  return loading;
}

async function load(options: LiteRtLoadOptions): Promise<LiteRtRuntime> {
  const relaxedSimd = options.relaxedSimd && (await supportsFeature('relaxedSimd'));
  const threads = options.threads && relaxedSimd && self.crossOriginIsolated && (await supportsFeature('threads'));
  // LiteRT's threaded build needs relaxed SIMD (node_modules/@litertjs/core/dist/index.js, load()).
  const build = !relaxedSimd ? 'compat' : threads ? 'threaded' : 'relaxed-simd';
  const file = { compat: 'litert_wasm_compat_internal', threaded: 'litert_wasm_threaded_internal', 'relaxed-simd': 'litert_wasm_internal' }[build];
  const base = new URL(LITERT_PATH, self.location.origin).href;
  const classicScript = `${base}${file}.js`;
  const factory = ((await import(/* @vite-ignore */ `${base}${file}.mjs`)) as { default: unknown }).default;
  const scope = self as unknown as Glue;
  const ownImportScripts = Object.getOwnPropertyDescriptor(scope, 'importScripts');
  scope.ModuleFactory = factory;
  // Emscripten looks for its .wasm beside the running script (this worker's bundle) unless told.
  scope.Module = {
    locateFile: (path: string) => new URL(path, base).href,
    mainScriptUrlOrBlob: classicScript,
    printErr: printLiteRtLog,
  };
  scope.importScripts = (...urls: string[]) => {
    if (urls.length !== 1 || urls[0] !== classicScript) throw new Error(`unexpected importScripts(${urls.join(', ')}) while LiteRT.js loads`);
  };
  try {
    // Given the folder and `threads`, LiteRT picks the threaded script itself; given a script, it loads that one.
    const liteRt = threads ? await loadLiteRt(base, { threads }) : await loadLiteRt(classicScript);
    return { build, webGpu: Boolean(liteRt.getDefaultEnvironment().webGpuDevice) };
  } finally {
    if (ownImportScripts) Object.defineProperty(scope, 'importScripts', ownImportScripts);
    else delete scope.importScripts;
  }
}

/** An input of a model run: values (float32, or uint8 for a file that takes bytes) and shape. */
export interface InputTensor {
  values: Float32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;
  shape: number[];
}

/** What a compiled file takes or gives: its tensor's name, type and shape. */
export interface TensorSignature {
  name: string;
  dtype: string;
  shape: number[];
}

/** A compiled .tflite file: run it with named inputs, get its named float32 outputs (copies). */
export class LiteRtModel {
  private constructor(
    private readonly model: CompiledModel,
    readonly accelerator: LiteRtAccelerator,
  ) {}

  /**
   * Compiles `file` for `accelerator` after loadLiteRtOnce(). WebGPU compiles in fp32 and must take every op:
   * a model LiteRT would split between WebGPU and wasm is refused instead (its numbers and speed would be neither).
   * `threads`: XNNPACK threads on wasm (the threaded build's default is every core).
   */
  static async compile(file: Uint8Array, accelerator: LiteRtAccelerator, threads?: number): Promise<LiteRtModel> {
    if (!loading) throw new LiteRtError('compile', 'loadLiteRtOnce() was not called');
    await loading;
    let model: CompiledModel;
    try {
      model = await loadAndCompile(file, {
        accelerator,
        ...(accelerator === 'webgpu' ? { gpuOptions: { precision: 'fp32' as const } } : {}),
        ...(threads !== undefined ? { cpuOptions: { numThreads: threads } } : {}),
      });
    } catch (error) {
      throw new LiteRtError('compile', error);
    }
    if (accelerator === 'webgpu' && !model.isFullyAccelerated) {
      model.delete();
      throw new LiteRtError('compile', 'not every op runs on WebGPU');
    }
    return new LiteRtModel(model, accelerator);
  }

  /** The inputs and outputs of the model's default signature. */
  signature(): { inputs: TensorSignature[]; outputs: TensorSignature[] } {
    const plain = (details: readonly { name: string; dtype: string; shape: Int32Array }[]) =>
      details.map(({ name, dtype, shape }) => ({ name, dtype, shape: Array.from(shape) }));
    return { inputs: plain(this.model.getInputDetails()), outputs: plain(this.model.getOutputDetails()) };
  }

  /** Runs the model's default signature; every LiteRT tensor made here is freed before this returns. */
  async run(inputs: Record<string, InputTensor>): Promise<Record<string, Float32Array>> {
    const made: Tensor[] = [];
    let outputs: Record<string, Tensor> = {};
    try {
      const named: Record<string, Tensor> = {};
      for (const [name, input] of Object.entries(inputs)) {
        named[name] = new Tensor(input.values, input.shape);
        made.push(named[name]);
      }
      outputs = await this.model.run(named);
      const values: Record<string, Float32Array> = {};
      // data() copies out of the wasm heap (a WebGPU output is brought back to the CPU first).
      for (const [name, tensor] of Object.entries(outputs)) values[name] = (await tensor.data()) as Float32Array;
      return values;
    } catch (error) {
      throw new LiteRtError('run', error);
    } finally {
      for (const tensor of [...made, ...Object.values(outputs)]) if (!tensor.deleted) tensor.delete();
    }
  }

  /** Frees the compiled model (its wasm memory or GPU buffers). */
  delete(): void {
    this.model.delete();
  }
}
