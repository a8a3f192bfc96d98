/**
 * Stage 2's WebAssembly SIMD kernels (kernels.wat), instantiated on tfjs-wasm's own memory so that they read and
 * write tensors where the backend keeps them. Compiled from bytes in this bundle: no fetch, and the page's CSP
 * allows it ('wasm-unsafe-eval'). Null where they cannot run (no WebAssembly SIMD, or a backend whose memory is
 * not reachable): callers then use the composite kernels.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from './simd-binary';

/** kernels.wat's exports; every pointer is a byte offset in the backend's heap. */
export interface SimdKernels {
  reluBackprop(x: number, dy: number, dx: number, n: number, max: number): void;
  scaleShift(x: number, scale: number, shift: number, y: number, rows: number, channels: number): void;
  /** out[i, j] = sum over k of A(i, k) * B(k, j); A(i, k) at byte a + i*aI + k*aK; B [k, n] and out [m, n] row-major. */
  matmul(a: number, aI: number, aK: number, b: number, out: number, m: number, k: number, n: number, kBlock: number): void;
  /** dx 0: not computed. */
  scaleShiftBackprop(x: number, dy: number, scale: number, dx: number, dscale: number, dshift: number, rows: number, channels: number): void;
  depthwiseBackprop(
    wantInput: 0 | 1, image: number, dy: number, taps: number,
    n: number, h: number, w: number, channels: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, top: number, left: number,
  ): void;
}

/** The emscripten module behind tfjs-wasm: its memory is `wasmMemory` in the threaded build, `asm.memory` otherwise. */
interface EmscriptenModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

const instances = new WeakMap<object, SimdKernels | null>();
let turnedOff = false;

/**
 * Turns the SIMD kernels off (every kernel then falls back to the one it replaces, as where WebAssembly SIMD is
 * missing) or on again: how a run is compared with the one the kernels before them made.
 */
export function turnSimdKernelsOff(off: boolean): void {
  turnedOff = off;
}

/** Why the kernels cannot run on `backend`, or null when they can. */
export function simdUnavailable(backend: BackendWasm): string | null {
  if (turnedOff) return 'SIMD kernels turned off';
  return simdKernelsOf(backend) === null ? 'no WebAssembly SIMD' : null;
}

/** The kernels on `backend`'s memory (made once per backend), or null where they cannot run or are turned off. */
export function simdKernelsOf(backend: BackendWasm): SimdKernels | null {
  if (turnedOff) return null;
  const known = instances.get(backend);
  if (known !== undefined) return known;
  const kernels = instantiate(backend);
  instances.set(backend, kernels);
  return kernels;
}

function instantiate(backend: BackendWasm): SimdKernels | null {
  const emscripten = backend.wasm as unknown as EmscriptenModule;
  const memory = emscripten.wasmMemory ?? emscripten.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = Uint8Array.from(atob(shared ? SHARED_MEMORY_WASM : PLAIN_MEMORY_WASM), (c) => c.charCodeAt(0));
  try {
    // Synchronous: kernels run synchronously, and the module is small (workers and Node allow any size).
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return instance.exports as unknown as SimdKernels;
  } catch {
    // No WebAssembly SIMD here (the module does not validate): the composite kernels serve.
    return null;
  }
}

/** A tensor's byte offset in the backend's heap. */
export function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  return backend.getMemoryOffset(info.dataId);
}
