/**
 * The base model as the farm runs it: one forward pass per batch gives the GAP-pooled bottleneck features
 * (what the head's first layer would compute, 1280 floats for MobileNetV2) and, when fine-tuning is planned,
 * the activations that cross the fine-tune cut (what stage 2 starts from, so the frozen layers never run again).
 * The pass runs the compiled base (fold.ts: BatchNorm folded into the convs, ReLU6 fused; the cut tensors left
 * exactly as the layers model makes them), or for comparison the layers model itself; a farm worker may hand it
 * another engine's pass of the same folded graph (LiteRT.js, litert-base.ts) once that pass matches this one.
 * Plain tfjs: runs in a worker and in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadBaseModel, splitAtFineTune } from '../engine/base-model';
import type { FoldedGraph } from '../engine/fold';
import { foldModel } from '../engine/fold-model';
import { releaseModels } from '../engine/release';
import { CompiledGraph } from '../engine/run-folded';
import type { CutTensor } from '../../shared/trainer-messages';

export interface ExtractorSpec {
  bottleneck: string;
  inputSize: number;
  /** Keras fine_tune_at (index or layer name), or null for head-only training. */
  fineTuneAt: number | string | null;
}

/** How the base runs: folded into plain ops (what the farm uses), or the layers model's predict (the bench's reference). */
export type BaseRunner = 'compiled' | 'layers';

/** Views into the batch's outputs (no copy): encodeTensor() makes the bytes a cache record owns. */
export interface ExtractedImage {
  pooled: Float32Array;
  /** One array per cut tensor, in `Extractor.cut` order; empty without fine-tuning. */
  cut: Float32Array[];
}

/**
 * A forward pass over a batch: normalised images [n, size, size, 3] -> one array per output for the whole batch
 * (image after image): each cut tensor, then the pooled features. The input is not disposed.
 */
export interface BaseForward {
  run(images: tf.Tensor4D): Promise<Float32Array[]>;
  dispose(): void;
}

/** A tfjs pass (the compiled graph's or the layers model's) whose last output is the bottleneck, pooled here. */
function tfjsForward(run: (images: tf.Tensor4D) => tf.Tensor[], dispose: () => void): BaseForward {
  return {
    async run(images) {
      const outputs = tf.tidy(() => {
        const list = run(images);
        return [...list.slice(0, -1), tf.mean(list[list.length - 1], [1, 2])];
      });
      try {
        return await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      } finally {
        tf.dispose(outputs);
      }
    },
    dispose,
  };
}

export class Extractor {
  private constructor(
    /** The pass of the engine this extractor was loaded with (tfjs). */
    readonly own: BaseForward,
    /** Tensors crossing the cut, empty without fine-tuning. */
    readonly cut: CutTensor[],
    /** Name of the first trainable layer (the cut's cache key), or null. */
    readonly cutLayer: string | null,
    /** The folded graph the compiled base runs (what another engine's file is written from); null for 'layers'. */
    readonly graph: FoldedGraph | null,
  ) {}

  static async load(artifacts: tf.io.ModelArtifacts, spec: ExtractorSpec, runner: BaseRunner = 'compiled'): Promise<Extractor> {
    const base = await loadBaseModel(artifacts, { bottleneck: spec.bottleneck, inputSize: spec.inputSize });
    const split = spec.fineTuneAt === null ? null : splitAtFineTune(base, spec.fineTuneAt);
    const outputs = [...((split?.frozen.outputs ?? []) as tfl.SymbolicTensor[]), base.outputs[0]];
    const model = tfl.model({ inputs: base.inputs, outputs, name: `${base.name}_extract` });
    const cut = split?.cut ?? [];
    const cutLayer = split?.fineTuneAtName ?? null;
    if (runner === 'layers') {
      const predict = (images: tf.Tensor4D) => {
        const raw = model.predict(images) as tf.Tensor | tf.Tensor[];
        return Array.isArray(raw) ? raw : [raw];
      };
      return new Extractor(tfjsForward(predict, () => releaseModels(base)), cut, cutLayer, null);
    }
    try {
      const compiled = new CompiledGraph(foldModel(model));
      return new Extractor(tfjsForward((images) => compiled.run(images), () => compiled.dispose()), cut, cutLayer, compiled.graph);
    } finally {
      // The compiled graph holds its own (folded) weights.
      releaseModels(base);
    }
  }

  /**
   * Normalised images [n, size, size, 3] -> per-image features, by `forward` (default: the extractor's own tfjs
   * pass). The input is not disposed.
   */
  async run(images: tf.Tensor4D, forward: BaseForward = this.own): Promise<ExtractedImage[]> {
    const n = images.shape[0];
    const data = await forward.run(images);
    const pooled = data[data.length - 1];
    const pooledSize = pooled.length / n;
    return Array.from({ length: n }, (_, i) => ({
      pooled: pooled.subarray(i * pooledSize, (i + 1) * pooledSize),
      cut: data.slice(0, -1).map((values) => {
        const size = values.length / n;
        return values.subarray(i * size, (i + 1) * size);
      }),
    }));
  }

  dispose(): void {
    this.own.dispose();
  }
}
