/** What the page is told about the base before a run: its layer names, and what a run on it would train. */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSummary } from '../../../shared/trainer-messages';
import type { TrainSettings } from '../../../shared/training';
import { loadBaseModel, summariseBase } from '../../engine/base-model';
import { releaseModels } from '../../engine/release';
import { buildHead } from '../head';
import { loadedBase } from './loaded-base';

/** The base as summaries read it, built once per input size: this worker's base never changes (loaded-base.ts),
 * and the page asks for its layer names and a run's summary each time the base or a setting is chosen. */
let described: { inputSize: number; base: Promise<tfl.LayersModel> } | null = null;

function baseAt(inputSize: number): Promise<tfl.LayersModel> {
  if (described?.inputSize === inputSize) return described.base;
  const previous = described;
  const base = loadedBase().then(({ artifacts, record }) => loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize }));
  described = { inputSize, base };
  // A failed build must not stick: the next call tries again.
  base.catch(() => {
    if (described?.base === base) described = null;
  });
  // Callers already given the previous one read it synchronously once it resolved: it can go now.
  previous?.base.then((model) => releaseModels(model), () => {});
  return base;
}

/** The base's layer names in order, up to its bottleneck: what fine-tune-from may name or count in. */
export async function layerNames(): Promise<string[]> {
  const inputSize = described?.inputSize ?? (await loadedBase()).record.inputSize;
  return (await baseAt(inputSize)).layers.map((layer) => layer.name);
}

/** Layers and parameter counts before and after unfreezing, and the cut fine-tuning will start from. */
export async function describeRun(inputSize: number, fineTuneAt: number | string, classCount: number, settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits'>): Promise<ModelSummary> {
  const base = await baseAt(inputSize);
  const featureSize = base.outputs[0].shape[3] as number;
  const head = buildHead(featureSize, Math.max(2, classCount), settings);
  try {
    return summariseBase(base, fineTuneAt, head.countParams());
  } finally {
    releaseModels(head);
  }
}
