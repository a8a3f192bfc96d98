/**
 * Stage 2's model: the base's layers from fine_tune_at on (trainable from then on, BatchNorm still in inference
 * mode), global average pooling, then the head's own layer objects, so the head's weights are shared. It takes the
 * cut activations the cache holds, so the frozen layers never run. Its ReLU and BatchNormalization layers run on the
 * SIMD kernels where they can (simd/simd-layers.ts: same values, a faster gradient). The trainer and every
 * fine-tuning helper build it the same way, which gives their trainable weights the same order.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainSettings } from '../../shared/training';
import { setBaseTrainable, splitAtFineTune } from '../engine/base-model';
import { keepBatchNormInInferenceMode } from '../engine/batch-norm-inference';
import { applyHead, buildHead } from './head';
import { useSimdTrainingOps } from './simd/simd-layers';

export function buildCutModel(base: tfl.LayersModel, head: tfl.LayersModel, fineTuneAt: number | string): tfl.LayersModel {
  const split = splitAtFineTune(base, fineTuneAt);
  setBaseTrainable(base, split.fineTuneAt);
  useSimdTrainingOps(split.trainableLayers);
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(split.trainable.outputs[0]);
  return tfl.model({
    inputs: split.trainable.inputs,
    outputs: applyHead(head, pooled as tfl.SymbolicTensor),
    name: 'fine_tune',
  });
}

/**
 * Stage 2's model as a fine-tuning helper holds it: its own base (freshly loaded at the run's input size) and a
 * new head of the run's shape. Its weights do not matter: every request brings the trainer's.
 */
export function buildReplicaModel(
  base: tfl.LayersModel,
  classCount: number,
  settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits' | 'fineTuneAt'>,
): tfl.LayersModel {
  keepBatchNormInInferenceMode(base);
  const featureSize = base.outputs[0].shape[base.outputs[0].shape.length - 1] as number;
  return buildCutModel(base, buildHead(featureSize, classCount, settings), settings.fineTuneAt);
}
