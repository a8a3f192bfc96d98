/**
 * Dropout masks drawn per sample, from the run's seed, the epoch and the sample's index in its source: a sample
 * is dropped the same way whichever worker computes it and whatever else is in its batch, so a step split across
 * the farm (data-parallel.ts) computes what one worker computes on the whole batch. tfjs's own Dropout draws one
 * mask for the whole batch tensor from a single seed, which no split could reproduce.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { hashSeed, mulberry32 } from '../../shared/seeded-random';

type Kwargs = { training?: boolean };
type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];

/** The seed text of one sample's masks in one epoch; a layer's mask adds the layer's name. */
export function sampleDropoutKey(runSeed: number, epoch: number, sampleIndex: number): string {
  return `${runSeed}:dropout:${epoch}:${sampleIndex}`;
}

/** Inverted dropout's multipliers for one sample: 0 for a dropped unit, 1 / (1 - rate) for a kept one. */
function maskRow(key: string, layerName: string, units: number, rate: number, into: Float32Array, offset: number): void {
  const random = mulberry32(hashSeed(`${key}:${layerName}`));
  const kept = 1 / (1 - rate);
  for (let i = 0; i < units; i++) into[offset + i] = random() >= rate ? kept : 0;
}

/**
 * Makes the model's Dropout layers (the head's, in both stages) draw their training masks from the keys handed
 * to `forSamples` before each step, one key per row of the batch. Inference (training: false) is untouched.
 */
export class SampleDropout {
  #keys: readonly string[] = [];

  constructor(layers: readonly tfl.layers.Layer[]) {
    for (const layer of layers) {
      if (layer.getClassName() !== 'Dropout') continue;
      const rate = (layer as unknown as { rate: number }).rate;
      if (!(rate > 0 && rate < 1)) continue;
      const dropout = layer as unknown as { call: Call };
      const inference = dropout.call.bind(layer);
      // Layer.apply calls `this.call`; an own property shadows Dropout's method for this layer object only.
      dropout.call = (inputs, kwargs) => (kwargs.training ? this.#drop(layer.name, rate, inputs) : inference(inputs, kwargs));
    }
  }

  /** The keys (sampleDropoutKey) of the next batch's rows, in row order. */
  forSamples(keys: readonly string[]): void {
    this.#keys = keys;
  }

  #drop(layerName: string, rate: number, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const [rows, units] = input.shape;
    if (input.rank !== 2 || rows !== this.#keys.length) {
      throw new Error(`per-sample dropout needs one key per row of a [batch, units] input: got ${this.#keys.length} keys for shape ${JSON.stringify(input.shape)}`);
    }
    const masks = new Float32Array(rows * units!);
    this.#keys.forEach((key, row) => maskRow(key, layerName, units!, rate, masks, row * units!));
    return tf.tidy(() => tf.mul(input, tf.tensor2d(masks, [rows, units!])));
  }
}
