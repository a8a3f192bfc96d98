/**
 * The classification head on pooled bottleneck features (what GlobalAveragePooling2D of the base gives:
 * 1280 floats per image for MobileNetV2): Dropout(settings.dropout) -> Dense(classes, softmax), or with
 * settings.hiddenUnits > 0 (seed 000's variant) Dropout(settings.dropout) -> Dense(hidden, relu) -> Dropout(0.5)
 * -> Dense(classes, softmax). Initialisers and dropout masks are seeded, so a run is reproducible.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainSettings } from '../../shared/training';
import { hashSeed } from '../../shared/seeded-random';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

/** The head's layers carry these fixed names, so checkpoints and exports name their weights the same every run. */
export const HEAD_LAYER_PREFIX = 'head_';

export function buildHead(
  featureSize: number,
  classCount: number,
  settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits'>,
): tfl.LayersModel {
  if (classCount < 2) throw new Error(`a classifier needs at least 2 classes, got ${classCount}`);
  const seedOf = (name: string) => hashSeed(`${settings.seed}:${name}`);
  const dense = (name: string, units: number, activation: 'relu' | 'softmax') =>
    tfl.layers.dense({
      name,
      units,
      activation,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seedOf(name) }),
      biasInitializer: 'zeros',
    });
  const dropout = (name: string, rate: number) => tfl.layers.dropout({ name, rate, seed: seedOf(name) });

  const input = tfl.input({ shape: [featureSize], name: `${HEAD_LAYER_PREFIX}features` });
  let x = dropout(`${HEAD_LAYER_PREFIX}dropout`, settings.dropout).apply(input) as SymbolicTensor;
  if (settings.hiddenUnits > 0) {
    x = dense(`${HEAD_LAYER_PREFIX}hidden`, settings.hiddenUnits, 'relu').apply(x) as SymbolicTensor;
    x = dropout(`${HEAD_LAYER_PREFIX}hidden_dropout`, 0.5).apply(x) as SymbolicTensor;
  }
  const output = dense(`${HEAD_LAYER_PREFIX}output`, classCount, 'softmax').apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'head' });
}

/** The head's layers after its input, in order: re-applied on top of the base in stage 2 and in exports. */
export function headLayers(head: tfl.LayersModel): Layer[] {
  return head.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
}

/** Applies the head's own layer objects (shared weights) to `features`. */
export function applyHead(head: tfl.LayersModel, features: SymbolicTensor): SymbolicTensor {
  return headLayers(head).reduce((x, layer) => layer.apply(x) as SymbolicTensor, features);
}
