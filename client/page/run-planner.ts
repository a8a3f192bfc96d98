/**
 * What a start() runs: the plan of a new run or of a resumed one (its record, split and dataset), and the plans
 * storage and extraction make of it. Every change returns a new plan (and, through runs.ts, a new record):
 * fitted to the storage the browser has, narrowed to the images whose features are cached, or without the
 * images that could not be read. Nothing here runs a worker or touches the page.
 */
import type { Augmentation } from '../../shared/augmentation';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import type { ModelRecord } from '../../shared/records';
import { runSettings, type RunRecord, type RunSettings, type RunSettingsInput } from '../../shared/run-record';
import type { ModelSummary } from '../../shared/trainer-messages';
import type { SplitAssignment } from '../../shared/training';
import { missingKeys } from '../cache/feature-store';
import { baseModelKeys, featureKey } from '../cache/keys';
import { splitImages } from '../trainer/split';
import type { DatasetChoice } from './dataset-source';
import { newRun, withStorage } from './runs';
import type { StoragePlan } from './storage-plan';

/** What a run is started with: its settings and, for eval's measurements, how an augmented view is made. */
export type PageSettings = RunSettingsInput & {
  /** Absent: DEFAULT_AUGMENTATION (the page's; eval measures others). */
  augmentation?: Augmentation;
};

export interface RunPlan {
  readonly run: RunRecord;
  readonly split: SplitAssignment;
  readonly dataset: DatasetChoice;
  readonly record: ModelRecord;
}

/** The base's shapes and parameter counts for some settings (the trainer describes them). */
export type Describe = (settings: RunSettings) => Promise<ModelSummary>;

/**
 * The run a start() makes, or continues (`resume`): its split, cache keys and identity. A resumed run must be on
 * the data it began with: its checkpoints hold what it learned from that data.
 */
export async function planRun(
  dataset: DatasetChoice,
  record: ModelRecord,
  settings: PageSettings,
  resume: RunRecord | null,
  describe: Describe,
): Promise<RunPlan> {
  if (resume && resume.datasetId !== dataset.id) {
    throw new Error('The data changed since this run began (your classes were edited): train again to use them as they are now.');
  }
  const kept = resume?.settings ?? runSettings(settings);
  const split = splitImages(dataset.images.map((i) => ({ id: i.imageId, class: i.class })), kept);
  const fineTune = kept.fineTuneEpochs > 0 ? await describe(kept) : null;
  const { pooledKey, cutKey } = baseModelKeys(record, kept.inputSize, fineTune?.fineTuneAtName ?? null);
  const augmentation = settings.augmentation ?? DEFAULT_AUGMENTATION;
  const run = resume ?? newRun({ datasetId: dataset.id, modelId: record.id, settings: kept, pooledKey, cutKey, augmentation });
  return { run, split, dataset, record };
}

/** The plan as storage lets it run: cut activations as uint8, or the head only. */
export function fitToStorage(plan: RunPlan, storage: StoragePlan): RunPlan {
  return { ...plan, run: withStorage(plan.run, storage.cut) };
}

/** The plan without the images in `left` (they could not be read). */
export function withoutImages(plan: RunPlan, left: ReadonlySet<string>): RunPlan {
  const keep = (ids: string[]) => ids.filter((id) => !left.has(id));
  const { train, validation, test } = plan.split;
  return { ...plan, split: { train: keep(train), validation: keep(validation), test: keep(test) } };
}

/** The views of an image a run stores: every view of a training image, the original of the others. */
export function viewsOf(plan: RunPlan): (imageId: string) => number[] {
  const train = new Set(plan.split.train);
  const views = plan.run.settings.augmentViews + 1;
  return (imageId) => Array.from({ length: train.has(imageId) ? views : 1 }, (_, v) => v);
}

/** The cache keys of an image's views under `modelKey`. */
export function viewKeys(plan: RunPlan, modelKey: string, imageId: string, views: readonly number[]): string[] {
  return views.map((v) => featureKey(modelKey, imageId, v, plan.run.augmentation));
}

/** The plan narrowed to the images whose pooled features are all cached; with the image counts before and after. */
export async function cachedImagesOnly(plan: RunPlan): Promise<{ plan: RunPlan; before: number; after: number }> {
  const views = viewsOf(plan);
  const ids = [...plan.split.train, ...plan.split.validation, ...plan.split.test];
  const keysOf = (id: string) => viewKeys(plan, plan.run.pooledKey, id, views(id));
  const missing = new Set(await missingKeys(ids.flatMap(keysOf)));
  const uncached = new Set(ids.filter((id) => keysOf(id).some((key) => missing.has(key))));
  return { plan: withoutImages(plan, uncached), before: ids.length, after: ids.length - uncached.size };
}
