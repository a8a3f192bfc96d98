/**
 * Keras semantics for the BatchNormalization layers of the pretrained base. The recipe calls the base with
 * training=False, so every BN layer of the base normalises with its moving mean/variance and never updates them, in
 * both stages, even when unfrozen for fine-tuning (gamma and beta still get gradients). tfjs-layers instead uses the
 * batch statistics and rewrites the moving averages whenever a call has training=true (fit(), trainOnBatch() and
 * apply(x, {training: true}) all pass it to every layer), whatever `trainable` says. Plain tfjs-layers: runs in the
 * trainer's Web Worker and in Node.
 */
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type LayerCall = Layer['call'];

const inInferenceMode = new WeakSet<Layer>();

/**
 * Makes every BatchNormalization layer in `model` (nested models included) or in `layers` run in inference mode,
 * whatever `training` its caller passes. The layers stay trainable: gamma and beta are still trained when the layer is.
 * Patches the layer instances, not the saved topology: apply it again to a model after loadLayersModel().
 * Idempotent. Returns how many BatchNormalization layers are now held in inference mode.
 */
export function keepBatchNormInInferenceMode(model: tfl.LayersModel | Layer[]): number {
  const batchNorms = collectBatchNorms(model instanceof tfl.LayersModel ? model.layers : model);
  for (const layer of batchNorms) {
    if (inInferenceMode.has(layer)) continue;
    const stockCall: LayerCall = layer.call.bind(layer);
    // Both graph executors (execute() for apply/fit/predict, runInternalGraph()) reach the layer through call(); the
    // kwargs object is shared by every layer of the graph, so it is copied, never changed.
    layer.call = (inputs, kwargs) => stockCall(inputs, { ...kwargs, training: false });
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
