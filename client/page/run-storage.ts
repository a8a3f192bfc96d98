/**
 * A run against the browser's storage: what it still has to store (counted against the feature cache), the
 * storage plan (storage-plan.ts) that fits the free space the browser reports, and the cut activations it gives
 * up when the cache fills anyway. Queries and deletes only: the plans they lead to are run-planner.ts's.
 */
import type { ModelSummary } from '../../shared/trainer-messages';
import { clear, missingKeys } from '../cache/feature-store';
import { viewKeys, viewsOf, type RunPlan } from './run-planner';
import { chooseStorage, type CutStorage, type RunFootprint, type StoragePlan } from './storage-plan';

/** Bytes and samples the run still has to store: only what the cache lacks counts. */
export async function runFootprint(plan: RunPlan, summary: ModelSummary): Promise<RunFootprint> {
  const { run, dataset, record } = plan;
  const fineTune = run.cutKey !== null;
  const views = viewsOf(plan);
  const keysOf = (modelKey: string) => dataset.images.flatMap((i) => viewKeys(plan, modelKey, i.imageId, views(i.imageId)));
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

/**
 * What the run needs and the plan that fits `available` bytes (absent: what the browser reports free now);
 * `failed` lists the cut storages that already ran out of space.
 */
export async function storagePlan(plan: RunPlan, summary: ModelSummary, available?: number | null, failed: CutStorage[] = []): Promise<StoragePlan> {
  const footprint = await runFootprint(plan, summary);
  return chooseStorage(footprint, available === undefined ? await freeBytes() : available, failed);
}

/** Deletes the run's cut activations (of its dataset); returns the bytes that freed, or null if unknown. */
export async function dropCutActivations(plan: RunPlan): Promise<number | null> {
  if (plan.run.cutKey === null) return 0;
  const before = await usedBytes();
  await clear({ datasetId: plan.dataset.id, modelKey: plan.run.cutKey });
  const after = await usedBytes();
  return before === null || after === null ? null : Math.max(0, before - after);
}

/** Bytes this origin may still store, as the browser estimates them, or null where it does not say. */
export async function freeBytes(): Promise<number | null> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  return estimate?.quota === undefined || estimate.usage === undefined ? null : Math.max(0, estimate.quota - estimate.usage);
}

async function usedBytes(): Promise<number | null> {
  return (await navigator.storage?.estimate?.().catch(() => null))?.usage ?? null;
}
