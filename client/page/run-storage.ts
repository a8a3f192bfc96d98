/**
 * Fitting a run to the browser's storage: what it still has to store (counted against the feature cache),
 * how a storage plan (storage-plan.ts) cuts it down, and what it gives up when the cache fills anyway.
 */
import { clear, missingKeys } from '../cache/feature-store';
import { featureKey } from '../cache/keys';
import type { RunPlan } from './session';
import type { RunFootprint } from './storage-plan';
import type { ModelSummary } from '../../shared/trainer-messages';

/** Bytes and samples the run still has to store: only what the cache lacks counts. */
export async function runFootprint(plan: RunPlan, summary: ModelSummary): Promise<RunFootprint> {
  const { run, split, dataset, record } = plan;
  const fineTune = run.cutKey !== null;
  const train = new Set(split.train);
  const views = (imageId: string) => (train.has(imageId) ? run.settings.augmentViews + 1 : 1);
  const keysOf = (key: string) =>
    dataset.images.flatMap((i) => Array.from({ length: views(i.imageId) }, (_, v) => featureKey(key, i.imageId, v, run.augmentation)));
  return {
    samples: (await missingKeys(keysOf(run.pooledKey))).length,
    cutSamples: fineTune ? (await missingKeys(keysOf(run.cutKey!))).length : 0,
    pooledSize: summary.layers[summary.layers.length - 1].outputShape.at(-1) ?? 0,
    cutSize: fineTune ? summary.cut.reduce((sum, c) => sum + c.shape.reduce((a, b) => a * b, 1), 0) : 0,
    modelBytes: record.bytes,
    headParams: summary.beforeUnfreezing.trainable,
    fineTuneParams: fineTune ? summary.afterUnfreezing.trainable : 0,
  };
}

/** Deletes the run's cut activations (of its dataset); returns the bytes that freed, or null if unknown. */
export async function dropCutActivations(plan: RunPlan): Promise<number | null> {
  if (plan.run.cutKey === null) return 0;
  const before = await usedBytes();
  await clear({ datasetId: plan.dataset.id, modelKey: plan.run.cutKey });
  const after = await usedBytes();
  return before === null || after === null ? null : Math.max(0, before - after);
}

/** Narrows the split to the images whose pooled features are all cached; returns the counts before and after. */
export async function keepCachedImages(plan: RunPlan): Promise<{ before: number; after: number }> {
  const { run, split } = plan;
  const keep = async (ids: string[], views: number) => {
    const keysOf = (id: string) => Array.from({ length: views }, (_, v) => featureKey(run.pooledKey, id, v, run.augmentation));
    const missing = new Set(await missingKeys(ids.flatMap(keysOf)));
    return ids.filter((id) => keysOf(id).every((key) => !missing.has(key)));
  };
  const count = () => split.train.length + split.validation.length + split.test.length;
  const before = count();
  split.train = await keep(split.train, run.settings.augmentViews + 1);
  split.validation = await keep(split.validation, 1);
  split.test = await keep(split.test, 1);
  return { before, after: count() };
}

/** Bytes this origin may still store, as the browser estimates them, or null where it does not say. */
export async function freeBytes(): Promise<number | null> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  return estimate?.quota === undefined || estimate.usage === undefined ? null : Math.max(0, estimate.quota - estimate.usage);
}

async function usedBytes(): Promise<number | null> {
  return (await navigator.storage?.estimate?.().catch(() => null))?.usage ?? null;
}
