/**
 * The training loss: Keras's categorical crossentropy on probabilities (clipped to [1e-7, 1 - 1e-7]) with optional
 * label smoothing (targets y * (1 - s) + s / classes, as Keras's `label_smoothing`) and per-sample weights.
 * Validation losses stay plain (evaluate.ts), so best epochs compare the same quantity whatever the smoothing.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean loss of a batch: `probs` [rows, classes], integer `labels`, `sampleWeights` [rows] or null. `batchSize`: the
 * whole batch's size when these rows are one worker's part of it, so the parts' losses (and gradients) add up to
 * the batch's mean.
 */
export function crossEntropy(
  probs: tf.Tensor2D,
  labels: Int32Array | number[],
  smoothing: number,
  sampleWeights: tf.Tensor1D | null,
  batchSize = probs.shape[0],
): tf.Scalar {
  return tf.tidy(() => {
    const classCount = probs.shape[1];
    const oneHot = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), classCount);
    const targets = smoothing > 0 ? tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / classCount) : oneHot;
    const clipped = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    const losses = tf.neg(tf.sum(tf.mul(targets, tf.log(clipped)), 1));
    return tf.div(tf.sum(sampleWeights ? tf.mul(losses, sampleWeights) : losses), batchSize) as tf.Scalar;
  });
}
