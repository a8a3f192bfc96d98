/**
 * Picks and initialises a tfjs backend inside a worker: WebGPU when an adapter exists and a quick self-check
 * agrees with WASM, else WASM (SIMD, threads when cross-origin isolated), else cpu. Backends load lazily.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendChoice, BackendReport } from '../../shared/farm';

/** Largest |webgpu - wasm| the self-check accepts on its small conv. */
const SELF_CHECK_TOLERANCE = 1e-3;

let wasmPathsSet = false;

/** Threads tfjs's WASM backend actually runs with: at most half the cores (what it gives a worker here). */
export function usableWasmThreads(threads: number, cores: number): number {
  return Math.max(1, Math.min(threads, Math.floor(cores / 2)));
}

async function initWasm(threads: number): Promise<boolean> {
  if (!wasmPathsSet) {
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    });
    const usable = usableWasmThreads(threads, navigator.hardwareConcurrency || 1);
    // One thread: the plain SIMD build. The threaded build would still start a pool of 8 nested pthread
    // workers, which costs memory for nothing and, in Firefox ESR, hung the worker's start in 6 of 10 loads.
    if (usable === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(usable);
    wasmPathsSet = true;
  }
  return tf.setBackend('wasm');
}

/** A deterministic small conv whose result must agree across backends. */
async function selfCheckConv(): Promise<Float32Array> {
  const y = tf.tidy(() => {
    const x = tf.sin(tf.reshape(tf.range(0, 2 * 9 * 9 * 4), [2, 9, 9, 4])) as tf.Tensor4D;
    const w = tf.cos(tf.reshape(tf.range(0, 3 * 3 * 4 * 8), [3, 3, 4, 8])) as tf.Tensor4D;
    return tf.relu6(tf.conv2d(x, w, 2, 'same'));
  });
  const values = (await y.data()) as Float32Array;
  y.dispose();
  return values;
}

async function tryWebGpu(notes: string[]): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) {
    notes.push('WebGPU is not available in this browser');
    return false;
  }
  if (!(await gpu.requestAdapter().catch(() => null))) {
    notes.push('no WebGPU adapter');
    return false;
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu').catch(() => false))) {
    notes.push('WebGPU backend failed to start');
    return false;
  }
  const onGpu = await selfCheckConv();
  // Reference on wasm when it starts (the backend we would fall back to), else cpu.
  const reference = (await initWasm(1).catch(() => false)) ? 'wasm' : 'cpu';
  await tf.setBackend(reference);
  const expected = await selfCheckConv();
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - onGpu[i]));
  if (maxDiff > SELF_CHECK_TOLERANCE) {
    notes.push(`WebGPU self-check failed (max diff ${maxDiff.toExponential(2)} vs ${reference})`);
    return false;
  }
  return tf.setBackend('webgpu');
}

/** Initialises the requested backend (falling back as needed) and says what runs. */
export async function selectBackend(choice: BackendChoice, threads: number): Promise<BackendReport> {
  const notes: string[] = [];
  if (choice === 'auto' || choice === 'webgpu') {
    if (await tryWebGpu(notes)) return { backend: 'webgpu', simd: false, threads: 1, notes };
  }
  if (choice !== 'cpu') {
    if (!self.crossOriginIsolated) notes.push('page is not cross-origin isolated: WASM runs without threads');
    if (await initWasm(threads).catch((e: unknown) => (notes.push(`WASM failed: ${String(e)}`), false))) {
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      if (!simd) notes.push('WebAssembly SIMD is not supported: WASM runs slower');
      return { backend: 'wasm', simd, threads: wasm.getThreadsCount(), notes };
    }
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', simd: false, threads: 1, notes };
}
