/**
 * Frees the weights of models that share layer objects (the base, its frozen and trainable parts, the head, the
 * stage-2 and export models). tfjs-layers reference-counts layers per model and per application, which does not
 * match how these models share layers; freeing every distinct weight once does, and leaks nothing.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

export function releaseModels(...models: tfl.LayersModel[]): void {
  const seen = new Set<object>();
  for (const model of models) {
    for (const layer of model.layers) {
      for (const weight of layer.weights) {
        if (seen.has(weight)) continue;
        seen.add(weight);
        weight.dispose();
      }
    }
  }
}
