/** What the page is told about the base before a run: its layer names, and what a run on it would train. */
import type { ModelSummary } from '../../../shared/trainer-messages';
import type { TrainSettings } from '../../../shared/training';
import { loadBaseModel, summariseBase } from '../../engine/base-model';
import { releaseModels } from '../../engine/release';
import { buildHead } from '../head';
import { loadedBase } from './loaded-base';

let names: Promise<string[]> | null = null;

/**
 * The base's layer names in order, up to its bottleneck: what fine-tune-from may name or count in. Read once:
 * this worker's base never changes (loaded-base.ts), and the page asks again each time that base is chosen.
 */
export function layerNames(): Promise<string[]> {
  names ??= readLayerNames();
  const reading = names;
  // A failed read must not stick: the next call tries again.
  reading.catch(() => {
    if (names === reading) names = null;
  });
  return reading;
}

async function readLayerNames(): Promise<string[]> {
  const { artifacts, record } = await loadedBase();
  const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize: record.inputSize });
  try {
    return base.layers.map((layer) => layer.name);
  } finally {
    releaseModels(base);
  }
}

/** Layers and parameter counts before and after unfreezing, and the cut fine-tuning will start from. */
export async function describeRun(inputSize: number, fineTuneAt: number | string, classCount: number, settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits'>): Promise<ModelSummary> {
  const { artifacts, record } = await loadedBase();
  const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize });
  const featureSize = base.outputs[0].shape[3] as number;
  const head = buildHead(featureSize, Math.max(2, classCount), settings);
  try {
    return summariseBase(base, fineTuneAt, head.countParams());
  } finally {
    releaseModels(base, head);
  }
}
