/**
 * The IndexedDB stores (features, checkpoints, classifiers) on fake-indexeddb: batches are all-or-nothing,
 * a full disk becomes StorageFullError saying what is kept, resume sees exactly what is missing across connections,
 * the cache panel's summary and clear work per dataset and model, and clearing everything leaves nothing. Image ids are the sha256 of the
 * shared photos and the model key uses the shared MobileNetV2's real weights hash.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDB } from 'idb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { History, NamedArray, TrainSettings } from '../../shared/training';
import { deleteCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../client/cache/checkpoint-store';
import { deleteClassifier, listClassifiers, loadClassifier, saveClassifier } from '../../client/cache/classifier-store';
import { decodeTensor, encodeTensor, type EncodedTensor } from '../../client/cache/codec';
import { clearEverything, closeDB, getDB } from '../../client/cache/connection';
import { isStorageFull, StorageFullError } from '../../client/cache/errors';
import { DB_NAME, DB_VERSION, type ClassifierRecord, type TrainingCheckpoint } from '../../client/cache/schema';
import {
  clear,
  count,
  getMany,
  missingKeys,
  putBatch,
  summary,
  type NewFeature,
} from '../../client/cache/feature-store';
import { featureKey, modelKey } from '../../client/cache/keys';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function imageIds(classDir: string, count: number): string[] {
  const dir = join(SHARED, 'datasets', classDir);
  return readdirSync(dir)
    .sort()
    .slice(0, count)
    .map((file) => sha256(readFileSync(join(dir, file))));
}

function weightsHashOf(modelDir: string): string {
  const dir = join(SHARED, 'models', modelDir);
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  return sha256(Buffer.concat(model.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))))));
}

const weightsHash = weightsHashOf('mobilenet_v2_0.35_224_no_top');
const BOTTLENECK = modelKey({ modelId: 'mobilenet-v2-035-224', weightsHash, inputSize: 224, cutLayer: 'out_relu' });
const CUT = modelKey({ modelId: 'mobilenet-v2-035-224', weightsHash, inputSize: 224, cutLayer: 'block_13_expand' });
const CATS = imageIds('cats_vs_dogs/cats', 20);
const DAISIES = imageIds('flowers/daisy', 6);

/** Pooled ReLU6 features, different per (image, view), so a mix-up would show. */
function pooled(imageId: string, view: number): Float32Array {
  const values = new Float32Array(1280);
  const seed = parseInt(imageId.slice(0, 8), 16) + view;
  for (let i = 0; i < values.length; i++) {
    const h = Math.imul(seed ^ (i * 0x9e3779b1), 0x85ebca6b) >>> 0;
    values[i] = h % 10 === 0 ? (h % 6000) / 1000 : 0;
  }
  return values;
}

function bottleneckFeature(datasetId: string, imageId: string, view: number, augmentation = DEFAULT_AUGMENTATION): NewFeature {
  const tensors = [encodeTensor(pooled(imageId, view), [1280], 'float16')];
  return { modelKey: BOTTLENECK, datasetId, imageId, view, augmentation: view > 0 ? augmentation : null, tensors };
}

/** The activations crossing a cut below block 13: [14,14,32] and [14,14,192]. */
function cutFeature(datasetId: string, imageId: string, view: number): NewFeature {
  const tensors: EncodedTensor[] = [
    encodeTensor(new Float32Array(14 * 14 * 32).fill(view + 1), [14, 14, 32], 'uint8'),
    encodeTensor(new Float32Array(14 * 14 * 192).fill(0.5), [14, 14, 192], 'uint8'),
  ];
  return { modelKey: CUT, datasetId, imageId, view, augmentation: view > 0 ? DEFAULT_AUGMENTATION : null, tensors };
}

const keysOf = (features: NewFeature[]) => features.map((f) => featureKey(f.modelKey, f.imageId, f.view, f.augmentation ?? undefined));

const quotaError = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

/** Aborts the put's transaction for quota at commit, as Chromium reports a full disk (see the feature store test). */
function abortForQuota(real: IDBObjectStore['put'], store: IDBObjectStore, args: Parameters<IDBObjectStore['put']>): IDBRequest {
  const request = real.apply(store, args);
  (store.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
  return request;
}

/** Four cut-activation records: 4 x 43,904 bytes of cached features. */
const FOUR_CUT_FEATURES = () => putBatch(CATS.slice(0, 4).map((id) => cutFeature('cats_vs_dogs', id, 0)));

/** Replaces IDBObjectStore.prototype.put for the duration of `body` (fake-indexeddb's class is the global one). */
async function withPatchedPut<R>(
  patch: (real: IDBObjectStore['put'], store: IDBObjectStore, args: Parameters<IDBObjectStore['put']>) => IDBRequest,
  body: () => Promise<R>,
): Promise<R> {
  const real = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    return patch(real, this, args);
  };
  try {
    return await body();
  } finally {
    IDBObjectStore.prototype.put = real;
  }
}

beforeEach(async () => {
  await closeDB();
  indexedDB = new IDBFactory();
});

afterAll(closeDB);

describe('feature store', () => {
  it('stores a batch and reads it back, values and all', async () => {
    const batch = CATS.slice(0, 4).flatMap((id) => [bottleneckFeature('cats_vs_dogs', id, 0), bottleneckFeature('cats_vs_dogs', id, 1)]);
    const before = Date.now();
    await putBatch(batch);
    const records = await getMany([...keysOf(batch), featureKey(BOTTLENECK, CATS[10], 0)]);
    expect(records).toHaveLength(batch.length + 1);
    expect(records.at(-1)).toBeUndefined();
    batch.forEach((feature, i) => {
      const record = records[i]!;
      expect(record.key).toBe(keysOf([feature])[0]);
      expect([record.datasetId, record.imageId, record.view, record.modelKey]).toEqual([
        'cats_vs_dogs',
        feature.imageId,
        feature.view,
        BOTTLENECK,
      ]);
      expect(record.bytes).toBe(2560);
      expect(record.createdAt).toBeGreaterThanOrEqual(before);
      expect(decodeTensor(record.tensors[0]!)).toEqual(decodeTensor(feature.tensors[0]!));
    });
    expect(await count(BOTTLENECK)).toBe(8);
    expect(await count(BOTTLENECK, 'cats_vs_dogs')).toBe(8);
    expect(await count(BOTTLENECK, 'flowers')).toBe(0);
  });

  it('refuses a record with no image id (no key) before writing anything', async () => {
    const batch = CATS.slice(0, 3).map((id) => bottleneckFeature('cats_vs_dogs', id, 0));
    const broken = { ...batch[1]!, imageId: undefined } as unknown as NewFeature;
    await expect(putBatch([batch[0]!, broken, batch[2]!])).rejects.toThrow(/feature 2 is not storable/);
    expect(await missingKeys(keysOf(batch))).toEqual(keysOf(batch));
  });

  it('stores nothing of a batch in which one put fails, and keeps earlier batches', async () => {
    const first = CATS.slice(0, 5).map((id) => bottleneckFeature('cats_vs_dogs', id, 0));
    await putBatch(first);
    const second = CATS.slice(5, 10).map((id) => bottleneckFeature('cats_vs_dogs', id, 0));
    // A tensor carrying a function cannot be structured-cloned: the third put throws DataCloneError.
    const poisoned = second.map((f, i) => (i === 2 ? { ...f, tensors: [{ ...f.tensors[0]!, onDecode: () => 0 }] } : f));
    await expect(putBatch(poisoned)).rejects.toThrow(/feature 3 of 5 .*DataCloneError.*nothing of this batch was stored/);
    expect(await missingKeys(keysOf(second))).toEqual(keysOf(second));
    expect(await missingKeys(keysOf(first))).toEqual([]);
    // The store still works after the failure.
    await putBatch(second);
    expect(await count(BOTTLENECK, 'cats_vs_dogs')).toBe(10);
  });

  it('turns a quota error thrown by a put into StorageFullError saying what is kept, and stores nothing of that batch', async () => {
    const first = CATS.slice(0, 6).flatMap((id) => [bottleneckFeature('cats_vs_dogs', id, 0), bottleneckFeature('cats_vs_dogs', id, 1)]);
    await putBatch(first);
    const second = CATS.slice(6, 10).map((id) => bottleneckFeature('cats_vs_dogs', id, 0));
    let puts = 0;
    const error = await withPatchedPut(
      (real, store, args) => {
        if (++puts === 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return real.apply(store, args);
      },
      () => putBatch(second).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(StorageFullError);
    const full = error as StorageFullError;
    expect(full.message).toBe(
      'Browser storage is full: a batch of 4 features could not be saved; the 6 images of this dataset cached before are kept. ' +
        'Cached features take 0.0 MB: free space or clear the cache under “Coming back”',
    );
    expect([full.what, full.featureBytes]).toEqual(['a batch of 4 features', 12 * 2560]);
    expect((full.cause as DOMException).name).toBe('QuotaExceededError');
    expect(await missingKeys(keysOf(second))).toEqual(keysOf(second));
    expect(await count(BOTTLENECK)).toBe(12);
  });

  it('knows a StorageFullError again after it crossed a worker boundary (comlink keeps its name and message)', () => {
    const full = new StorageFullError('a batch of 4 features', 'nothing else changed', null);
    const crossed = Object.assign(new Error(full.message), { name: full.name, stack: full.stack });
    expect([isStorageFull(full), isStorageFull(crossed)]).toEqual([true, true]);
    expect([isStorageFull(new Error('cache full')), isStorageFull(quotaError()), isStorageFull(null)]).toEqual([false, false, false]);
  });

  it('turns a transaction aborted for quota at commit into StorageFullError', async () => {
    const first = CATS.slice(0, 3).map((id) => cutFeature('cats_vs_dogs', id, 0));
    await putBatch(first);
    const second = CATS.slice(3, 7).map((id) => cutFeature('cats_vs_dogs', id, 0));
    let puts = 0;
    const error = await withPatchedPut(
      (real, store, args) => {
        const request = real.apply(store, args);
        // Chromium reports a full disk by aborting the transaction with tx.error = QuotaExceededError; the
        // requests themselves fail with AbortError. fake-indexeddb's internal _abort(name) does exactly that.
        if (++puts === second.length) (store.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
        return request;
      },
      () => putBatch(second).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).message).toMatch(/^Browser storage is full: a batch of 4 features could not be saved; the 3 images of this dataset cached before are kept\. /);
    expect(await missingKeys(keysOf(second))).toEqual(keysOf(second));
    expect(await missingKeys(keysOf(first))).toEqual([]);
  });

  it('tells a resumed run exactly which items are left, also on a new connection', async () => {
    const all = CATS.flatMap((id) => [0, 1, 2].map((view) => bottleneckFeature('cats_vs_dogs', id, view)));
    const keys = keysOf(all);
    const stored = all.filter((_, i) => i % 2 === 0);
    for (let i = 0; i < stored.length; i += 8) await putBatch(stored.slice(i, i + 8));
    const leftToDo = keys.filter((_, i) => i % 2 === 1);
    expect(await missingKeys(keys)).toEqual(leftToDo);

    await closeDB(); // the tab is gone; the next visit opens a new connection
    expect(await missingKeys(keys)).toEqual(leftToDo);
    const again = await getMany(leftToDo.slice(0, 3));
    expect(again).toEqual([undefined, undefined, undefined]);
  });

  it('never reads an augmented view back for another augmentation: changed parameters mean a new extraction', async () => {
    const rotated = { ...DEFAULT_AUGMENTATION, rotation: 0.1 };
    await putBatch(CATS.slice(0, 3).flatMap((id) => [0, 1].map((view) => bottleneckFeature('cats_vs_dogs', id, view))));
    const wanted = CATS.slice(0, 3).flatMap((id) => [featureKey(BOTTLENECK, id, 0, rotated), featureKey(BOTTLENECK, id, 1, rotated)]);
    // The originals are still good; every augmented view has to be computed again with the new rotation.
    expect(await missingKeys(wanted)).toEqual(wanted.filter((_, i) => i % 2 === 1));
    await putBatch(CATS.slice(0, 3).map((id) => bottleneckFeature('cats_vs_dogs', id, 1, rotated)));
    expect(await missingKeys(wanted)).toEqual([]);
    const [record] = await getMany([featureKey(BOTTLENECK, CATS[0]!, 1, rotated)]);
    expect(record!.augmentation).toEqual(rotated);
  });

  it('refuses an augmented view stored without its augmentation', async () => {
    const feature = { ...bottleneckFeature('cats_vs_dogs', CATS[0]!, 1), augmentation: null };
    await expect(putBatch([feature])).rejects.toThrow(/augmentation/);
  });

  it('summarises and clears per dataset and model', async () => {
    await putBatch(CATS.slice(0, 5).flatMap((id) => [0, 1].map((view) => bottleneckFeature('cats_vs_dogs', id, view))));
    await putBatch(CATS.slice(0, 2).map((id) => cutFeature('cats_vs_dogs', id, 0)));
    await putBatch(DAISIES.map((id) => bottleneckFeature('flowers', id, 0)));
    // An augmented view whose original is not cached yet adds a record but not an image.
    await putBatch([bottleneckFeature('flowers', CATS[19]!, 2)]);
    const cutBytes = 14 * 14 * 32 + 14 * 14 * 192;

    // Sorted by dataset, then model key ('…|block_13_expand' before '…|out_relu').
    expect(await summary()).toEqual([
      { datasetId: 'cats_vs_dogs', modelKey: CUT, images: 2, records: 2, bytes: 2 * cutBytes },
      { datasetId: 'cats_vs_dogs', modelKey: BOTTLENECK, images: 5, records: 10, bytes: 10 * 2560 },
      { datasetId: 'flowers', modelKey: BOTTLENECK, images: 6, records: 7, bytes: 7 * 2560 },
    ]);

    expect(await clear({ datasetId: 'cats_vs_dogs', modelKey: CUT })).toBe(2);
    expect((await summary()).map((e) => [e.datasetId, e.modelKey === BOTTLENECK])).toEqual([
      ['cats_vs_dogs', true],
      ['flowers', true],
    ]);

    expect(await clear({ datasetId: 'flowers' })).toBe(7);
    expect(await summary()).toEqual([{ datasetId: 'cats_vs_dogs', modelKey: BOTTLENECK, images: 5, records: 10, bytes: 10 * 2560 }]);

    await putBatch(DAISIES.map((id) => cutFeature('flowers', id, 0)));
    expect(await clear({ modelKey: BOTTLENECK })).toBe(10);
    expect(await summary()).toEqual([{ datasetId: 'flowers', modelKey: CUT, images: 6, records: 6, bytes: 6 * cutBytes }]);

    expect(await clear()).toBe(6);
    expect(await summary()).toEqual([]);
  });
});

describe('database connection', () => {
  it('steps aside when a newer version needs to upgrade, and then refuses to run stale code', async () => {
    await putBatch([bottleneckFeature('cats_vs_dogs', CATS[0]!, 0)]);
    // If our connection did not close on `blocking`, this open would be blocked (and wait forever).
    const newer = await new Promise<Awaited<ReturnType<typeof openDB>>>((resolve, reject) => {
      openDB(DB_NAME, DB_VERSION + 1, { blocked: () => reject(new Error('blocked: the old connection stayed open')) }).then(resolve, reject);
    });
    expect(newer.objectStoreNames.contains('features')).toBe(true);
    await expect(getDB()).rejects.toMatchObject({ name: 'VersionError' });
    newer.close();
  });
});

const settings: TrainSettings = {
  seed: 4,
  split: { validation: 0.1, test: 0.1 },
  optimizer: 'adam',
  learningRate: 1e-4,
  batchSize: 32,
  headEpochs: 10,
  fineTuneEpochs: 10,
  fineTuneAt: 100,
  fineTuneLrDivisor: 10,
  dropout: 0.2,
  hiddenUnits: 0,
  augmentViews: 2,
};

function checkpoint(runId: string, epoch: number, savedAt: number): TrainingCheckpoint {
  const weights: NamedArray[] = [
    { name: 'dense/kernel', shape: [1280, 2], data: new Float32Array(2560).map((_, i) => Math.sin(i + epoch)) },
    { name: 'dense/bias', shape: [2], data: new Float32Array([epoch, -epoch]) },
  ];
  const history: History = {
    initial: { valLoss: 0.9, valAccuracy: 0.5 },
    epochs: Array.from({ length: epoch }, (_, e) => ({
      epoch: e,
      stage: 'head' as const,
      loss: 0.5,
      accuracy: 0.8,
      valLoss: 0.4,
      valAccuracy: 0.85,
      seconds: 1.5,
    })),
    fineTuneStartEpoch: null,
  };
  return {
    runId,
    datasetId: 'cats_vs_dogs',
    modelKey: BOTTLENECK,
    settings,
    split: { train: CATS.slice(0, 16), validation: CATS.slice(16, 18), test: CATS.slice(18) },
    classes: ['cats', 'dogs'],
    history,
    stage: 'head',
    epoch,
    trainableWeights: weights,
    optimizerWeights: [{ name: 'iter', shape: [], data: new Float32Array([epoch * 13]) }, ...weights],
    savedAt,
  };
}

describe('checkpoint store', () => {
  it('keeps only the latest checkpoint per run, round-trips its arrays and lists runs without weights', async () => {
    await saveCheckpoint(checkpoint('run-a', 1, 1000));
    await saveCheckpoint(checkpoint('run-b', 4, 2000));
    const latest = checkpoint('run-a', 2, 3000);
    await saveCheckpoint(latest);

    const loaded = await loadCheckpoint('run-a');
    expect(loaded).toEqual(latest);
    expect(loaded!.trainableWeights[0]!.data).toBeInstanceOf(Float32Array);

    expect(await listCheckpoints()).toEqual([
      { runId: 'run-a', datasetId: 'cats_vs_dogs', modelKey: BOTTLENECK, stage: 'head', epoch: 2, savedAt: 3000 },
      { runId: 'run-b', datasetId: 'cats_vs_dogs', modelKey: BOTTLENECK, stage: 'head', epoch: 4, savedAt: 2000 },
    ]);

    await deleteCheckpoint('run-b');
    expect(await loadCheckpoint('run-b')).toBeUndefined();
    expect((await listCheckpoints()).map((s) => s.runId)).toEqual(['run-a']);
  });

  it('says “Browser storage is full”, what is kept and what to clear when the disk is full, and keeps the previous checkpoint', async () => {
    await FOUR_CUT_FEATURES();
    await saveCheckpoint(checkpoint('run-a', 3, 1000));
    for (const patch of [() => { throw quotaError(); }, abortForQuota]) {
      const error = await withPatchedPut(patch, () => saveCheckpoint(checkpoint('run-a', 4, 2000)).catch((e: unknown) => e));
      expect(error).toBeInstanceOf(StorageFullError);
      expect((error as Error).message).toBe(
        'Browser storage is full: the checkpoint after epoch 4 could not be saved; the one after epoch 3 is kept. ' +
          'Cached features take 0.2 MB: free space or clear the cache under “Coming back”',
      );
      expect(((error as Error).cause as DOMException).name).toBe('QuotaExceededError');
      expect((await loadCheckpoint('run-a'))!.epoch).toBe(3);
    }
    const first = await withPatchedPut(abortForQuota, () => saveCheckpoint(checkpoint('run-b', 1, 3000)).catch((e: unknown) => e));
    expect((first as Error).message).toMatch(/^Browser storage is full: the checkpoint after epoch 1 could not be saved; this run has no earlier checkpoint\. /);
  });

  it('refuses a checkpoint it could not list and keeps the previous one', async () => {
    await saveCheckpoint(checkpoint('run-a', 1, 1000));
    await expect(saveCheckpoint({ ...checkpoint('run-a', 2, 2000), epoch: Number.NaN })).rejects.toThrow(/epoch/);
    await expect(saveCheckpoint({ ...checkpoint('run-a', 2, 2000), datasetId: '' })).rejects.toThrow(/datasetId/);
    expect((await loadCheckpoint('run-a'))!.epoch).toBe(1);
  });
});

function classifier(runId: string, name: string, savedAt: number): ClassifierRecord {
  const weights = new Float32Array(1280 * 2 + 2).map((_, i) => Math.cos(i));
  return {
    runId,
    name,
    classes: ['cats', 'dogs'],
    savedAt,
    artifacts: {
      modelTopology: { class_name: 'Sequential', config: { name: name } },
      weightSpecs: [
        { name: 'dense/kernel', shape: [1280, 2], dtype: 'float32' },
        { name: 'dense/bias', shape: [2], dtype: 'float32' },
      ],
      weightData: weights.buffer,
      format: 'layers-model',
      generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    },
  };
}

describe('classifier store', () => {
  it('saves, lists without artifacts (newest first), loads and deletes', async () => {
    await saveClassifier(classifier('run-a', 'cats or dogs', 100));
    await saveClassifier(classifier('run-b', 'second try', 200));
    expect(await listClassifiers()).toEqual([
      { runId: 'run-b', name: 'second try', classes: ['cats', 'dogs'], savedAt: 200 },
      { runId: 'run-a', name: 'cats or dogs', classes: ['cats', 'dogs'], savedAt: 100 },
    ]);
    const loaded = (await loadClassifier('run-a'))!;
    expect(new Float32Array(loaded.artifacts.weightData)).toEqual(new Float32Array(classifier('run-a', 'cats or dogs', 100).artifacts.weightData));
    expect(loaded.artifacts.weightSpecs).toHaveLength(2);
    await deleteClassifier('run-a');
    expect((await listClassifiers()).map((c) => c.runId)).toEqual(['run-b']);
  });

  it('says “Browser storage is full” and what to clear when the disk is full, and keeps the classifiers saved before', async () => {
    await FOUR_CUT_FEATURES();
    await saveClassifier(classifier('run-a', 'cats or dogs', 100));
    for (const patch of [() => { throw quotaError(); }, abortForQuota]) {
      const error = await withPatchedPut(patch, () => saveClassifier(classifier('run-b', 'second try', 200)).catch((e: unknown) => e));
      expect(error).toBeInstanceOf(StorageFullError);
      expect((error as Error).message).toBe(
        'Browser storage is full: the classifier “second try” could not be saved; the classifiers saved before are kept. ' +
          'Cached features take 0.2 MB: free space or clear the cache under “Coming back”',
      );
    }
    expect((await listClassifiers()).map((c) => c.runId)).toEqual(['run-a']);
  });

  it('refuses a classifier without a name or weight buffer', async () => {
    await expect(saveClassifier(classifier('run-a', ' ', 1))).rejects.toThrow(/name/);
    const noBuffer = classifier('run-a', 'x', 1);
    (noBuffer.artifacts as { weightData: unknown }).weightData = [noBuffer.artifacts.weightData];
    await expect(saveClassifier(noBuffer)).rejects.toThrow(/weightData/);
    expect(await listClassifiers()).toEqual([]);
  });
});

describe('clearing everything', () => {
  it('empties the features, the checkpoints and the classifiers (and the runs: run-store.test.ts), and says how many of each went', async () => {
    await putBatch(CATS.slice(0, 3).map((id) => bottleneckFeature('cats_vs_dogs', id, 0)));
    await saveCheckpoint(checkpoint('run-a', 1, 1000));
    await saveCheckpoint(checkpoint('run-b', 2, 2000));
    await saveClassifier(classifier('run-a', 'cats or dogs', 100));

    expect(await clearEverything()).toEqual({ features: 3, checkpoints: 2, classifiers: 1, runs: 0 });
    expect(await summary()).toEqual([]);
    expect(await listCheckpoints()).toEqual([]);
    expect(await listClassifiers()).toEqual([]);
    // Still usable afterwards.
    await saveCheckpoint(checkpoint('run-c', 1, 3000));
    expect((await listCheckpoints()).map((c) => c.runId)).toEqual(['run-c']);
  });
});
