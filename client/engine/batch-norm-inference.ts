/**
 * Keras semantics for the BatchNormalization layers of the pretrained base. The recipe calls the base with
 * training=False, so every BN layer of the base normalises with its moving mean/variance and never updates them, in
 * both stages, even when unfrozen for fine-tuning (gamma and beta still get gradients). tfjs-layers instead uses the
 * batch statistics and rewrites the moving averages whenever a call has training=true (fit(), trainOnBatch() and
 * apply(x, {training: true}) all pass it to every layer), whatever `trainable` says.
 * Plain tfjs: runs in the trainer's Web Worker and in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;

/** The state tfjs-layers' BatchNormalization keeps on the instance once built (its TypeScript fields are private). */
interface BatchNormState {
  axis: number;
  epsilon: number;
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

const inInferenceMode = new WeakSet<Layer>();

/**
 * Makes every BatchNormalization layer in `model` (nested models included) or in `layers` run in inference mode,
 * whatever `training` its caller passes: y = gamma * (x - movingMean) / sqrt(movingVariance + epsilon) + beta, moving
 * statistics never updated. The layers stay trainable: gamma and beta are still trained when the layer is.
 * Patches the layer instances, not the saved topology: apply it again to a model after loadLayersModel().
 * Idempotent. Returns how many BatchNormalization layers are now held in inference mode.
 */
export function keepBatchNormInInferenceMode(model: tfl.LayersModel | Layer[]): number {
  const batchNorms = collectBatchNorms(model instanceof tfl.LayersModel ? model.layers : model);
  for (const layer of batchNorms) {
    if (inInferenceMode.has(layer)) continue;
    // Both graph executors (execute() for apply/fit/predict/trainOnBatch, runInternalGraph()) run a layer through its
    // call(), so replacing it on the instance covers every path; `training` in kwargs is simply not consulted.
    layer.call = (inputs) => normalizeWithMovingStatistics(layer, Array.isArray(inputs) ? inputs[0]! : inputs);
    inInferenceMode.add(layer);
  }
  return batchNorms.length;
}

function collectBatchNorms(layers: Layer[]): Layer[] {
  return layers.flatMap((layer) => {
    if (layer instanceof tfl.LayersModel) return collectBatchNorms(layer.layers);
    return layer.getClassName() === 'BatchNormalization' ? [layer] : [];
  });
}

/**
 * The stock inference path computes the same thing with tf.batchNorm, but tfjs-core's gradient of that op tiles each
 * per-channel tensor to the input's full size (Tile is slow on wasm): fine-tuning steps measured ~1.5x slower. As a
 * per-channel scale and shift, the gradients are plain broadcast multiplies and sums.
 */
function normalizeWithMovingStatistics(layer: Layer, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let { scale, shift, axis } = inferenceScaleShift(layer, x.rank);
    if (axis !== x.rank - 1) {
      const broadcastShape = x.shape.map((size, i) => (i === axis ? size : 1));
      scale = tf.reshape(scale, broadcastShape);
      shift = tf.reshape(shift, broadcastShape);
    }
    return tf.add(tf.mul(x, scale), shift);
  });
}

/**
 * A BatchNormalization layer in inference mode as y = x * scale + shift along `axis` (of an input of rank `rank`):
 * scale = gamma / sqrt(movingVariance + epsilon), shift = beta - movingMean * scale, as tensors on the gradient
 * tape (gamma and beta train through them). Call it inside a tidy.
 */
export function inferenceScaleShift(layer: Layer, rank: number): { scale: tf.Tensor; shift: tf.Tensor; axis: number } {
  const state = layer as unknown as BatchNormState;
  if (state.movingMean === undefined || state.movingVariance === undefined) {
    throw new Error(`${layer.name}: BatchNormalization has no moving statistics (tfjs-layers internals changed?)`);
  }
  const inverseStd = tf.rsqrt(tf.add(state.movingVariance.read(), state.epsilon));
  const scale = state.gamma === undefined ? inverseStd : tf.mul(state.gamma.read(), inverseStd);
  let shift = tf.neg(tf.mul(state.movingMean.read(), scale));
  if (state.beta !== undefined) shift = tf.add(shift, state.beta.read());
  return { scale, shift, axis: state.axis < 0 ? state.axis + rank : state.axis };
}
