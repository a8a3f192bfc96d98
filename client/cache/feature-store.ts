/**
 * The feature cache: what the base model produced for each (model, image, view), written by the farm's
 * workers in one transaction per batch and read by the page and the trainer. Resume is bookkeeping over
 * keys: whatever missingKeys returns is what is left to compute; nothing stored is ever computed again.
 *
 * A record's key is featureKey(modelKey, imageId, view, augmentation), so an image that two datasets share is stored
 * once, under the dataset whose extraction stored it first; summary() and clear() count it there.
 */
import { checkEncodedTensor } from './codec';
import { getDB } from './connection';
import { isQuotaExceeded, StorageFullError } from './errors';
import { featureKey } from './keys';
import type { FeatureRecord, StoredFeatureRecord } from './schema';

/** What a worker hands to putBatch: the store derives key, createdAt and bytes. */
export type NewFeature = Omit<FeatureRecord, 'key' | 'createdAt'>;

function toStoredRecord(feature: NewFeature, index: number, createdAt: number): StoredFeatureRecord {
  try {
    if (typeof feature.datasetId !== 'string' || feature.datasetId.length === 0) throw new TypeError('datasetId is empty');
    if (!Array.isArray(feature.tensors) || feature.tensors.length === 0) throw new TypeError('no tensors');
    let bytes = 0;
    for (const tensor of feature.tensors) {
      checkEncodedTensor(tensor);
      bytes += tensor.data.byteLength;
    }
    const key = featureKey(feature.modelKey, feature.imageId, feature.view, feature.augmentation ?? undefined);
    const { modelKey, datasetId, imageId, view, tensors } = feature;
    const augmentation = view === 0 ? null : feature.augmentation;
    return { key, modelKey, datasetId, imageId, view, augmentation, tensors, createdAt, bytes };
  } catch (error) {
    throw new TypeError(`feature ${index + 1} is not storable: ${(error as Error).message}`, { cause: error });
  }
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * Stores a batch in one readwrite transaction: all of it or, if anything fails, none of it.
 * Encode the tensors before calling: nothing but IndexedDB requests happens while the transaction is open.
 * Throws StorageFullError when the browser's quota is exhausted, and an Error naming the failing record otherwise.
 */
export async function putBatch(features: readonly NewFeature[]): Promise<void> {
  const createdAt = Date.now();
  const records = features.map((feature, i) => toStoredRecord(feature, i, createdAt));
  if (records.length === 0) return;
  const db = await getDB();
  const tx = db.transaction('features', 'readwrite');
  const writes: Promise<unknown>[] = [];
  try {
    for (const record of records) writes.push(tx.store.put(record));
    await Promise.all([...writes, tx.done]);
    return;
  } catch (error) {
    let culprit: { index: number; error: unknown } | null = null;
    if (writes.length < records.length) {
      // put threw (e.g. DataCloneError) while the earlier puts were queued: abort, or they would commit.
      culprit = { index: writes.length, error };
      try {
        tx.abort();
      } catch {
        // It had already aborted by itself (the put threw because of that): nothing will commit either way.
      }
    }
    const [results] = await Promise.all([Promise.allSettled(writes), tx.done.catch(() => undefined)]);
    if (!culprit) {
      // The failing request is the first one that did not just fail because the transaction aborted.
      const index = results.findIndex((r) => r.status === 'rejected' && !isAbort(r.reason));
      if (index >= 0) culprit = { index, error: (results[index] as PromiseRejectedResult).reason };
    }
    const cause = culprit?.error ?? tx.error ?? error;
    if (isQuotaExceeded(cause) || isQuotaExceeded(tx.error)) {
      const { datasetId, modelKey } = records[0];
      const cached = await countImages(datasetId, modelKey).catch(() => null);
      const kept = cached === null ? 'the features cached before are kept' : `the ${cached} images of this dataset cached before are kept`;
      throw new StorageFullError(`a batch of ${records.length} features`, kept, await cachedFeatureBytes().catch(() => null), { cause });
    }
    const which = culprit ? `feature ${culprit.index + 1} of ${records.length} (${records[culprit.index].key})` : `a batch of ${records.length} features`;
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new Error(`could not store ${which}: ${reason}; nothing of this batch was stored`, { cause });
  }
}

/** The stored records for `keys`, in order; undefined where a key is not cached. */
export async function getMany(keys: readonly string[]): Promise<(StoredFeatureRecord | undefined)[]> {
  const db = await getDB();
  const tx = db.transaction('features');
  const [records] = await Promise.all([Promise.all(keys.map((key) => tx.store.get(key))), tx.done]);
  return records;
}

/** The keys among `keys` that are not cached yet, in order: the work a resumed extraction still has to do. */
export async function missingKeys(keys: readonly string[]): Promise<string[]> {
  const db = await getDB();
  const tx = db.transaction('features');
  const [found] = await Promise.all([Promise.all(keys.map((key) => tx.store.getKey(key))), tx.done]);
  return keys.filter((_, i) => found[i] === undefined);
}

/** Records (all views) cached for a model, optionally only those stored by one dataset. */
export async function count(modelKey: string, datasetId?: string): Promise<number> {
  const db = await getDB();
  return datasetId === undefined
    ? db.countFromIndex('features', 'by-model-key', modelKey)
    : db.countFromIndex('features', 'by-dataset-model', [datasetId, modelKey]);
}

/** Images (view-0 records) of a dataset and model in the cache. */
function countImages(datasetId: string, modelKey: string): Promise<number> {
  return getDB().then((db) =>
    db.countFromIndex(
      'features',
      'by-dataset-model-view-bytes',
      IDBKeyRange.bound([datasetId, modelKey, 0, 0], [datasetId, modelKey, 0, Number.POSITIVE_INFINITY]),
    ),
  );
}

export interface CacheSummaryEntry {
  datasetId: string;
  modelKey: string;
  /** Distinct images with their original view (view 0) cached. */
  images: number;
  /** Records of every view. */
  records: number;
  /** Stored tensor bytes. */
  bytes: number;
}

/** What is cached, per (dataset, model), sorted by dataset then model. Reads index keys only, never tensors. */
export async function summary(): Promise<CacheSummaryEntry[]> {
  const db = await getDB();
  const entries: CacheSummaryEntry[] = [];
  let current: CacheSummaryEntry | undefined;
  let cursor = await db.transaction('features').store.index('by-dataset-model-view-bytes').openKeyCursor();
  while (cursor) {
    const [datasetId, modelKey, view, bytes] = cursor.key;
    if (!current || current.datasetId !== datasetId || current.modelKey !== modelKey) {
      current = { datasetId, modelKey, images: 0, records: 0, bytes: 0 };
      entries.push(current);
    }
    if (view === 0) current.images++;
    current.records++;
    current.bytes += bytes;
    cursor = await cursor.continue();
  }
  return entries;
}

/** Bytes of every cached feature: what clearing the cache frees. */
export async function cachedFeatureBytes(): Promise<number> {
  return (await summary()).reduce((sum, entry) => sum + entry.bytes, 0);
}

export interface ClearFilter {
  datasetId?: string;
  modelKey?: string;
}

/** Deletes everything, or only what one dataset and/or model stored; returns how many records went. */
export async function clear(filter: ClearFilter = {}): Promise<number> {
  const db = await getDB();
  const tx = db.transaction('features', 'readwrite');
  const { datasetId, modelKey } = filter;
  if (datasetId === undefined && modelKey === undefined) {
    const all = await tx.store.count();
    await Promise.all([tx.store.clear(), tx.done]);
    return all;
  }
  const keys =
    datasetId === undefined
      ? await tx.store.index('by-model-key').getAllKeys(modelKey)
      : await tx.store
          .index('by-dataset-model')
          .getAllKeys(
            modelKey === undefined
              ? IDBKeyRange.bound([datasetId], [datasetId, []]) // [] sorts after every string
              : IDBKeyRange.only([datasetId, modelKey]),
          );
  await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  return keys.length;
}
