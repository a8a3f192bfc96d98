/**
 * The farm's forward pass on LiteRT.js: the compiled base's folded graph written as a float32 .tflite file in
 * memory (client/tflite/base-file.ts), compiled once per worker (client/engine/litert.ts), run batch after batch.
 * Its outputs are the tfjs pass's (extractor.ts): each cut tensor, then the pooled features. It is used only after
 * `compareForwards` found it equal to the tfjs pass on a probe image, so the cache keeps one meaning whatever
 * engine filled it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LiteRtReport, LiteRtSettings } from '../../shared/farm';
import type { FoldedGraph } from '../engine/fold';
import { LiteRtModel, loadLiteRtOnce, type LiteRtAccelerator } from '../engine/litert';
import { POOLED_OUTPUT, cutOutputName, writeBaseTflite } from '../tflite/base-file';
import type { BaseForward } from './extractor';

/** Largest |LiteRT - tfjs| the self-check accepts, relative to the largest |value| of that output. */
export const ENGINE_TOLERANCE = 1e-4;

export interface LiteRtBaseOptions {
  accelerator: LiteRtAccelerator;
  /** Images per LiteRT run: the file's batch dimension. */
  batch: number;
  /** XNNPACK threads (the threaded build only). */
  threads?: number;
}

export class LiteRtBase implements BaseForward {
  private constructor(
    private readonly model: LiteRtModel,
    private readonly batch: number,
    /** Values per image of each output, in order: the cut tensors, then the pooled features. */
    private readonly sizes: number[],
    private readonly inputSize: number,
  ) {}

  get accelerator(): LiteRtAccelerator {
    return this.model.accelerator;
  }

  /** Writes `graph` (extractor.ts's folded extraction graph) as a file of `options.batch` images and compiles it. */
  static async compile(graph: FoldedGraph, options: LiteRtBaseOptions): Promise<LiteRtBase> {
    const file = writeBaseTflite(graph, options.batch);
    const model = await LiteRtModel.compile(file, options.accelerator, options.threads);
    const perImage = (index: number) => graph.tensors[index].shape.slice(1).reduce((a, b) => a * b, 1);
    const bottleneck = graph.tensors[graph.outputs.at(-1)!].shape;
    const sizes = [...graph.outputs.slice(0, -1).map(perImage), bottleneck[3]];
    const [, h, w, c] = graph.tensors[graph.input].shape;
    return new LiteRtBase(model, options.batch, sizes, h * w * c);
  }

  async run(images: tf.Tensor4D): Promise<Float32Array[]> {
    const n = images.shape[0];
    const pixels = (await images.data()) as Float32Array;
    const outputs = this.sizes.map((size) => new Float32Array(n * size));
    const names = [...this.sizes.slice(0, -1).map((_, i) => cutOutputName(i)), POOLED_OUTPUT];
    const [, h, w, c] = images.shape;
    for (let start = 0; start < n; start += this.batch) {
      const count = Math.min(this.batch, n - start);
      // The file takes whole batches: a short last one is padded with zeros, whose outputs are dropped.
      const part = new Float32Array(this.batch * this.inputSize);
      part.set(pixels.subarray(start * this.inputSize, (start + count) * this.inputSize));
      const result = await this.model.run({ image: { values: part, shape: [this.batch, h, w, c] } });
      names.forEach((name, k) => outputs[k].set(result[name].subarray(0, count * this.sizes[k]), start * this.sizes[k]));
    }
    return outputs;
  }

  dispose(): void {
    this.model.delete();
  }
}

/**
 * Runs both passes on `probe` and says how `candidate` differs from `reference`, in words, when any output
 * differs by more than ENGINE_TOLERANCE of that output's largest |value|; null when they agree.
 */
export async function compareForwards(reference: BaseForward, candidate: BaseForward, probe: tf.Tensor4D, names: string[]): Promise<string | null> {
  const expected = await reference.run(probe);
  const actual = await candidate.run(probe);
  for (let k = 0; k < expected.length; k++) {
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < expected[k].length; i++) {
      scale = Math.max(scale, Math.abs(expected[k][i]));
      diff = Math.max(diff, Math.abs(expected[k][i] - actual[k][i]));
    }
    if (!(diff <= ENGINE_TOLERANCE * scale)) {
      return `its ${names[k]} differ from TF.js's by ${diff.toExponential(2)} (largest value ${scale.toFixed(2)}; at most ${ENGINE_TOLERANCE} of it is allowed)`;
    }
  }
  return null;
}

/** A deterministic smooth test image (pixels 0..255, [1, size, size, 3]) for the self-check. */
export function probeImage(size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.reshape(tf.range(0, size), [size, 1, 1]);
    const x = tf.reshape(tf.range(0, size), [1, size, 1]);
    const channel = tf.reshape(tf.tensor1d([1, 2, 3]), [1, 1, 3]);
    const wave = tf.sin(tf.add(tf.mul(tf.mul(x, channel), 0.05), tf.mul(y, 0.07)));
    return tf.expandDims(tf.add(tf.mul(wave, 127.5), 127.5), 0) as tf.Tensor4D;
  });
}

export interface LiteRtStart {
  settings: LiteRtSettings;
  /** May LiteRT compile for WebGPU (the worker's backend choice allows it)? */
  webGpu: boolean;
  /** Normalised probe images both passes run for the self-check. */
  probe: tf.Tensor4D;
  /** Names of the outputs, for the words of a failed check. */
  outputNames: string[];
}

/**
 * LiteRT's pass of `graph` for this worker, when LiteRT loads, compiles (WebGPU first where allowed and found, else
 * wasm) and matches `own` on the probe; else null. Each failure adds its reason to `notes`.
 */
export async function startLiteRtBase(
  graph: FoldedGraph,
  own: BaseForward,
  start: LiteRtStart,
  notes: string[],
): Promise<{ forward: LiteRtBase; report: LiteRtReport } | null> {
  const { settings } = start;
  let runtime;
  try {
    runtime = await loadLiteRtOnce({ threads: settings.threads > 1, relaxedSimd: settings.relaxedSimd });
  } catch (error) {
    notes.push((error as Error).message);
    return null;
  }
  const threads = runtime.build === 'threaded' ? settings.threads : 1;
  const accelerators: LiteRtAccelerator[] = runtime.webGpu && start.webGpu ? ['webgpu', 'wasm'] : ['wasm'];
  for (const accelerator of accelerators) {
    let forward: LiteRtBase;
    try {
      forward = await LiteRtBase.compile(graph, { accelerator, batch: settings.batch, threads: runtime.build === 'threaded' ? threads : undefined });
    } catch (error) {
      notes.push(`${(error as Error).message} (${ACCELERATOR_NAMES[accelerator]})`);
      continue;
    }
    const mismatch = await compareForwards(own, forward, start.probe, start.outputNames).catch((error: Error) => error.message);
    if (mismatch === null) return { forward, report: { accelerator, build: runtime.build, threads, batch: settings.batch } };
    forward.dispose();
    notes.push(`LiteRT.js on ${ACCELERATOR_NAMES[accelerator]} failed its self-check against TF.js: ${mismatch}`);
  }
  return null;
}

const ACCELERATOR_NAMES: Record<LiteRtAccelerator, string> = { wasm: 'WASM', webgpu: 'WebGPU' };
