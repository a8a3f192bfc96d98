/**
 * The page's training runs, on fake-indexeddb: a record an older page saved comes back with the values its run
 * used (one normaliser), one that is not a run record is refused with what is wrong, the runs an older page kept
 * in localStorage move into IndexedDB once (a damaged one stays where it was, nothing is overwritten), "Delete
 * everything" takes the runs with the cache, and the run owner's changes are new records, never edits.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import { parseRunRecord, RunRecordError, type RunRecord } from '../../shared/run-record';
import { clearEverything, closeDB } from '../../client/cache/connection';
import { LEGACY_RUN_PREFIX, listRuns, loadRun, moveLegacyRuns, saveRun } from '../../client/cache/run-store';
import { DB_NAME, DB_VERSION } from '../../client/cache/schema';
import { newRun, withEpoch, withStorage } from '../../client/page/runs';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';

/** localStorage as a browser has it, for Node. */
class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  clear(): void {
    this.#items.clear();
  }
}

const POOLED = 'm1|mobilenet|0123456789abcdef0123456789abcdef|224|out_relu';
const CUT = 'm1|mobilenet|0123456789abcdef0123456789abcdef|224|block_11_expand';

/** Settings a run record of a page before issue 11 lacks: it trained as their defaults say. */
const LATER_SETTINGS = ['viewsPerEpoch', 'classWeighting', 'patience', 'fineTuneSchedule', 'labelSmoothing'];

/** A run record as the page saved it before issue 11: no augmentation, cut codec or best accuracy, nor the later settings. */
function oldRecord(runId: string): Record<string, unknown> {
  const settings = Object.fromEntries(Object.entries(DEFAULT_SETTINGS).filter(([key]) => !LATER_SETTINGS.includes(key)));
  return {
    runId,
    datasetId: 'flowers',
    modelId: 'mobilenet',
    settings: { ...settings, workers: 2, backend: 'wasm', inputSize: 224, maxChunkSize: 16 },
    pooledKey: POOLED,
    cutKey: CUT,
    createdAt: 1_700_000_000_000,
  };
}

beforeEach(async () => {
  await closeDB();
  indexedDB = new IDBFactory();
});

describe('run records', () => {
  it('gives an older record the values its run used', () => {
    const run = parseRunRecord(oldRecord('run-old'));
    expect(run.augmentation).toEqual(DEFAULT_AUGMENTATION);
    expect([run.cutCodec, run.bestValAccuracy]).toEqual(['float16', null]);
    expect(run.settings).toMatchObject({ viewsPerEpoch: 'all', classWeighting: 'none', patience: 0, fineTuneSchedule: 'constant', labelSmoothing: 0 });
    // What it had stays as it was.
    expect([run.settings.fineTuneEpochs, run.settings.fineTuneLrDivisor, run.settings.backend]).toEqual([DEFAULT_SETTINGS.fineTuneEpochs, DEFAULT_SETTINGS.fineTuneLrDivisor, 'wasm']);
  });

  it('refuses what is not a run record, saying which field is wrong', () => {
    const noModel = { ...oldRecord('run-x'), modelId: undefined };
    expect(() => parseRunRecord(noModel)).toThrow(RunRecordError);
    expect(() => parseRunRecord(noModel)).toThrow(/^the record of run run-x cannot be read: modelId: /);
    expect(() => parseRunRecord({ ...oldRecord('run-y'), settings: { ...DEFAULT_SETTINGS, backend: 'gpu' } })).toThrow(/settings\.backend/);
  });

  it('changes a run by making a new record: storage cuts it, epochs raise its best', () => {
    const run = newRun({ datasetId: 'flowers', modelId: 'mobilenet', settings: { ...DEFAULT_SETTINGS, workers: 2, backend: 'auto', inputSize: 224 }, pooledKey: POOLED, cutKey: CUT, augmentation: DEFAULT_AUGMENTATION });
    expect(run).toMatchObject({ cutCodec: 'float16', bestValAccuracy: null, settings: { maxChunkSize: 16 } });
    const before = structuredClone(run);
    const headOnly = withStorage(run, 'none');
    expect([headOnly.cutKey, headOnly.settings.fineTuneEpochs]).toEqual([null, 0]);
    expect(withStorage(run, 'uint8').cutCodec).toBe('uint8');
    expect(withStorage(run, 'float16')).toBe(run);
    expect(withEpoch(withEpoch(run, 0.8), 0.7).bestValAccuracy).toBe(0.8);
    expect(run).toEqual(before);
  });
});

describe('run store', () => {
  it('keeps runs in IndexedDB and reads them back through the normaliser', async () => {
    await saveRun(parseRunRecord(oldRecord('run-a')));
    await closeDB(); // a reload
    expect((await loadRun('run-a'))?.settings.viewsPerEpoch).toBe('all');
    expect(await loadRun('run-none')).toBeNull();
  });

  it('lists the runs it can read and leaves a damaged record stored', async () => {
    await saveRun(parseRunRecord(oldRecord('run-a')));
    const db = await openDB(DB_NAME);
    await db.put('runs', { runId: 'run-damaged', datasetId: 'flowers' });
    db.close();
    expect((await listRuns()).map((r) => r.runId)).toEqual(['run-a']);
    await expect(loadRun('run-damaged')).rejects.toThrow(/^the record of run run-damaged cannot be read/);
  });

  it('moves the runs an older page kept in localStorage once, leaving what it cannot read and overwriting nothing', async () => {
    const storage = new MemoryStorage();
    storage.setItem(`${LEGACY_RUN_PREFIX}run-a`, JSON.stringify(oldRecord('run-a')));
    storage.setItem(`${LEGACY_RUN_PREFIX}run-b`, JSON.stringify({ ...oldRecord('run-b'), bestValAccuracy: 0.75 }));
    storage.setItem(`${LEGACY_RUN_PREFIX}run-bad`, '{"runId": "run-bad"');
    storage.setItem('another-app', 'kept');
    // This browser has run-b already (a page of this version saved it): the store's copy wins.
    const current: RunRecord = { ...parseRunRecord(oldRecord('run-b')), bestValAccuracy: 0.9 };
    await saveRun(current);

    const moved = await moveLegacyRuns(storage);
    expect(moved.moved).toBe(2);
    expect(moved.left).toEqual([expect.stringMatching(/^graft\.run\.run-bad: /)]);
    expect((await listRuns()).map((r) => [r.runId, r.bestValAccuracy]).sort()).toEqual([['run-a', null], ['run-b', 0.9]]);
    expect([...Array(storage.length).keys()].map((i) => storage.key(i)).sort()).toEqual(['another-app', `${LEGACY_RUN_PREFIX}run-bad`]);
    // Once: nothing is left to move.
    expect(await moveLegacyRuns(storage)).toEqual({ moved: 0, left: [expect.stringMatching(/run-bad/)] });
  });

  it('goes with "Delete everything", in the same transaction as the cache', async () => {
    await saveRun(parseRunRecord(oldRecord('run-a')));
    expect(await clearEverything()).toEqual({ features: 0, checkpoints: 0, classifiers: 0, runs: 1 });
    expect(await listRuns()).toEqual([]);
  });

  it('upgrades a version 2 database in place: the visitor\'s classes stay, and runs get their store', async () => {
    const old = await openDB(DB_NAME, 2, {
      upgrade(db) {
        db.createObjectStore('local-classes', { keyPath: 'id' });
      },
    });
    await old.put('local-classes', { id: 'c1', name: 'cats', createdAt: 1 });
    old.close();
    await saveRun(parseRunRecord(oldRecord('run-a')));
    const db = await openDB(DB_NAME);
    expect([db.version, await db.count('local-classes'), await db.count('runs')]).toEqual([DB_VERSION, 1, 1]);
    db.close();
  });
});
