/** The base model's files as the page sends them (model.json + weights) in the form tfjs loads. */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelArtifactsData } from '../../../shared/farm';

export function toArtifacts({ modelJson, weightData }: ModelArtifactsData): tf.io.ModelArtifacts {
  return {
    modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData,
  };
}
