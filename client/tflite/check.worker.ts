/**
 * The check every exported .tflite file passes before the page offers it: LiteRT.js (a TFLite runtime none of us
 * wrote) compiles the file on its wasm CPU path and runs it on the held-out images, one at a time; the page shows
 * the file's own accuracy, how often its top-1 equals the TF.js model's, and the time per image.
 *
 * A classic worker, not a module one: LiteRT.js loads its Emscripten script with importScripts(), which module
 * workers do not have. Its wasm files are static assets of the page under LITERT_WASM_PATH (vite.config.ts).
 */
import * as Comlink from 'comlink';
import { loadAndCompile, loadLiteRt, Tensor } from '@litertjs/core';

const LITERT_WASM_PATH = '/litert/';

export interface CheckJob {
  file: Uint8Array;
  /** The images as the file takes them, one after the other: float32 preprocessed, or uint8 pixels. */
  inputs: ArrayBuffer;
  inputType: 'float32' | 'uint8';
  count: number;
  classes: number;
  /** True class of each image, and the TF.js model's top-1 on it. */
  labels: number[];
  tfjsTop1: number[];
}

export interface CheckResult {
  accuracy: number;
  /** Share of images where the file's top-1 equals the TF.js model's. */
  agreement: number;
  msPerImage: number;
  input: { dtype: string; shape: number[] };
  output: { dtype: string; shape: number[] };
}

let loaded: Promise<unknown> | null = null;

const api = {
  async check(job: CheckJob): Promise<CheckResult> {
    const base = new URL(LITERT_WASM_PATH, self.location.origin).href;
    // Emscripten looks for the .wasm beside the running script (this worker, in /assets/) unless the global Module
    // it is handed says where: LiteRT.js passes that object on to its module factory.
    (self as unknown as { Module?: { locateFile(path: string): string } }).Module ??= { locateFile: (path) => new URL(path, base).href };
    // LiteRT loads once per worker; a failed load may be retried.
    loaded ??= loadLiteRt(base).catch((error) => {
      loaded = null;
      throw error;
    });
    await loaded;
    const model = await loadAndCompile(job.file, { accelerator: 'wasm' });
    try {
      const [inputDetails] = model.getInputDetails();
      const [outputDetails] = model.getOutputDetails();
      const input = { dtype: inputDetails.dtype, shape: Array.from(inputDetails.shape) };
      const output = { dtype: outputDetails.dtype, shape: Array.from(outputDetails.shape) };
      if (input.dtype !== job.inputType) throw new Error(`the file takes ${input.dtype} input, ${job.inputType} was prepared`);
      if (output.shape.at(-1) !== job.classes) throw new Error(`the file has ${output.shape.at(-1)} outputs for ${job.classes} classes`);
      const per = input.shape.reduce((a, b) => a * b, 1);
      let correct = 0;
      let agree = 0;
      let ms = 0;
      for (let i = 0; i < job.count; i++) {
        const values = job.inputType === 'uint8' ? new Uint8Array(job.inputs, i * per, per) : new Float32Array(job.inputs, i * per * 4, per);
        const tensor = new Tensor(values, input.shape);
        const start = performance.now();
        const [result] = await model.run(tensor);
        ms += performance.now() - start;
        const probabilities = result.toTypedArray() as Float32Array;
        result.delete();
        tensor.delete();
        if (probabilities.some((p) => !Number.isFinite(p))) throw new Error('the file gives values that are not numbers');
        const top1 = probabilities.indexOf(Math.max(...probabilities));
        if (top1 === job.labels[i]) correct++;
        if (top1 === job.tfjsTop1[i]) agree++;
      }
      return { accuracy: correct / job.count, agreement: agree / job.count, msPerImage: ms / job.count, input, output };
    } finally {
      model.delete();
    }
  },
};

export type CheckWorkerApi = typeof api;
Comlink.expose(api);
