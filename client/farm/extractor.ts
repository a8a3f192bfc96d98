/**
 * The base model as the farm runs it: one forward pass per batch gives the GAP-pooled bottleneck features
 * (what the head's first layer would compute, 1280 floats for MobileNetV2) and, when fine-tuning is planned,
 * the activations that cross the fine-tune cut (what stage 2 starts from, so the frozen layers never run again).
 * Plain tfjs: runs in a worker and in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadBaseModel, splitAtFineTune } from '../engine/base-model';
import type { CutTensor } from '../../shared/trainer-messages';

export interface ExtractorSpec {
  bottleneck: string;
  inputSize: number;
  /** Keras fine_tune_at (index or layer name), or null for head-only training. */
  fineTuneAt: number | string | null;
}

export interface ExtractedImage {
  pooled: Float32Array;
  /** One array per cut tensor, in `Extractor.cut` order; empty without fine-tuning. */
  cut: Float32Array[];
}

export class Extractor {
  private constructor(
    private readonly model: tfl.LayersModel,
    /** Tensors crossing the cut, empty without fine-tuning. */
    readonly cut: CutTensor[],
    /** Name of the first trainable layer (the cut's cache key), or null. */
    readonly cutLayer: string | null,
  ) {}

  static async load(artifacts: tf.io.ModelArtifacts, spec: ExtractorSpec): Promise<Extractor> {
    const base = await loadBaseModel(artifacts, { bottleneck: spec.bottleneck, inputSize: spec.inputSize });
    if (spec.fineTuneAt === null) return new Extractor(base, [], null);
    const split = splitAtFineTune(base, spec.fineTuneAt);
    const outputs = [...(split.frozen.outputs as tfl.SymbolicTensor[]), base.outputs[0]];
    const model = tfl.model({ inputs: base.inputs, outputs, name: `${base.name}_extract` });
    return new Extractor(model, split.cut, split.fineTuneAtName);
  }

  /** Normalised images [n, size, size, 3] -> per-image features. The input is not disposed. */
  async run(images: tf.Tensor4D): Promise<ExtractedImage[]> {
    const n = images.shape[0];
    const outputs = tf.tidy(() => {
      const raw = this.model.predict(images) as tf.Tensor | tf.Tensor[];
      const list = Array.isArray(raw) ? raw : [raw];
      const pooled = tf.mean(list[list.length - 1], [1, 2]);
      return [...list.slice(0, -1), pooled];
    });
    try {
      const data = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      const pooled = data[data.length - 1];
      const pooledSize = pooled.length / n;
      return Array.from({ length: n }, (_, i) => ({
        pooled: pooled.slice(i * pooledSize, (i + 1) * pooledSize),
        cut: data.slice(0, -1).map((values) => {
          const size = values.length / n;
          return values.slice(i * size, (i + 1) * size);
        }),
      }));
    } finally {
      tf.dispose(outputs);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
