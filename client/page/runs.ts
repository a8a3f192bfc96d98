/**
 * The one owner of the page's training runs: it makes a run's record, makes the changed record when storage
 * cuts a run down or an epoch sets a new best (a new record each time, never an edit), saves each in IndexedDB
 * (client/cache/run-store.ts) and knows which run is current. Nothing else builds, changes or saves a RunRecord.
 */
import type { Augmentation } from '../../shared/augmentation';
import { runSettings, type RunRecord, type RunSettingsInput } from '../../shared/run-record';
import { listRuns, loadRun, moveLegacyRuns, saveRun } from '../cache/run-store';
import type { CutStorage } from './storage-plan';

/** What a new run is made of. */
export interface NewRun {
  datasetId: string;
  modelId: string;
  settings: RunSettingsInput;
  pooledKey: string;
  cutKey: string | null;
  augmentation: Augmentation;
}

/** A new run's record (settings normalised: every optional one given). */
export function newRun(run: NewRun, now = Date.now()): RunRecord {
  return {
    runId: `run-${now.toString(36)}`,
    datasetId: run.datasetId,
    modelId: run.modelId,
    settings: runSettings(run.settings),
    pooledKey: run.pooledKey,
    cutKey: run.cutKey,
    augmentation: run.augmentation,
    cutCodec: 'float16',
    createdAt: now,
    bestValAccuracy: null,
  };
}

/** The run as storage lets it be: cut activations as uint8, or no fine-tuning (the head only). */
export function withStorage(run: RunRecord, cut: CutStorage): RunRecord {
  if (cut === 'uint8') return { ...run, cutCodec: 'uint8' };
  if (cut === 'none' && run.cutKey !== null) return { ...run, settings: { ...run.settings, fineTuneEpochs: 0 }, cutKey: null };
  return run;
}

/** The run after an epoch of this validation accuracy. */
export function withEpoch(run: RunRecord, valAccuracy: number): RunRecord {
  return { ...run, bestValAccuracy: Math.max(run.bestValAccuracy ?? 0, valAccuracy) };
}

export class Runs {
  #current: RunRecord | null = null;
  /** Runs an older page kept in localStorage, moved into IndexedDB before the first read (once per page). */
  #legacyMoved: Promise<unknown> | null = null;

  /** The run in progress, or the last one this page ran. */
  get current(): RunRecord | null {
    return this.#current;
  }

  /** Saves `run` as its run's record and makes it the current run; resolves once it is stored. */
  async keep(run: RunRecord): Promise<RunRecord> {
    this.#current = run;
    await saveRun(run);
    return run;
  }

  /** A run of an earlier visit, or null when this browser has no record of it. */
  async load(runId: string): Promise<RunRecord | null> {
    await this.#moveLegacy();
    return loadRun(runId);
  }

  async list(): Promise<RunRecord[]> {
    await this.#moveLegacy();
    return listRuns();
  }

  /** After "Delete everything" (which empties the store with the cache): no run is current any more. */
  forget(): void {
    this.#current = null;
  }

  #moveLegacy(): Promise<unknown> {
    this.#legacyMoved ??= moveLegacyRuns(localStorage).then(
      ({ left }) => left.forEach((why) => console.warn(`Graft: a run kept by an older page stays in localStorage (${why})`)),
      // Nothing was moved, nothing lost: the next page tries again.
      (error: unknown) => console.warn(`Graft: the runs kept by an older page could not be moved (${(error as Error).message})`),
    );
    return this.#legacyMoved;
  }
}
