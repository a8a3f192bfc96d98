/**
 * Training checkpoints: the latest state of each run, so a killed tab resumes training at the next epoch.
 * One record per run (saving replaces it). Listing reads the `summary` index's keys, which hold every
 * listed field, so it never loads weights; that is why those fields must be valid IndexedDB keys.
 */
import type { Stage } from '../../shared/training';
import { getDB, putOne } from './connection';
import { isQuotaExceeded, StorageFullError } from './errors';
import { cachedFeatureBytes } from './feature-store';
import type { TrainingCheckpoint } from './schema';

/** One line of the checkpoint list. */
export interface CheckpointSummary {
  runId: string;
  datasetId: string;
  modelKey: string;
  stage: Stage;
  epoch: number;
  savedAt: number;
}

function checkCheckpoint(checkpoint: TrainingCheckpoint): void {
  for (const field of ['runId', 'datasetId', 'modelKey'] as const) {
    if (typeof checkpoint[field] !== 'string' || checkpoint[field].length === 0) throw new TypeError(`checkpoint ${field} is empty`);
  }
  if (checkpoint.stage !== 'head' && checkpoint.stage !== 'fine-tune') throw new TypeError(`unknown stage ${JSON.stringify(checkpoint.stage)}`);
  if (!Number.isInteger(checkpoint.epoch) || checkpoint.epoch < 0) throw new TypeError(`checkpoint epoch must be a non-negative integer, got ${checkpoint.epoch}`);
  if (!Number.isFinite(checkpoint.savedAt)) throw new TypeError(`checkpoint savedAt must be a time, got ${checkpoint.savedAt}`);
}

/**
 * Stores `checkpoint` as its run's latest, replacing the previous one (a single put: on failure the previous one
 * stays). Throws StorageFullError when the browser's quota is exhausted.
 */
export async function saveCheckpoint(checkpoint: TrainingCheckpoint): Promise<void> {
  checkCheckpoint(checkpoint);
  try {
    await putOne('checkpoints', checkpoint);
  } catch (error) {
    if (!isQuotaExceeded(error)) throw error;
    const previous = (await listCheckpoints().catch(() => [])).find((c) => c.runId === checkpoint.runId);
    const kept = previous ? `the one after epoch ${previous.epoch} is kept` : 'this run has no earlier checkpoint';
    const bytes = await cachedFeatureBytes().catch(() => null);
    throw new StorageFullError(`the checkpoint after epoch ${checkpoint.epoch}`, kept, bytes, { cause: error });
  }
}

export async function loadCheckpoint(runId: string): Promise<TrainingCheckpoint | undefined> {
  const db = await getDB();
  return db.get('checkpoints', runId);
}

/** Every run's latest checkpoint, newest first, without weights. */
export async function listCheckpoints(): Promise<CheckpointSummary[]> {
  const db = await getDB();
  const summaries: CheckpointSummary[] = [];
  let cursor = await db.transaction('checkpoints').store.index('summary').openKeyCursor(null, 'prev');
  while (cursor) {
    const [savedAt, runId, datasetId, modelKey, stage, epoch] = cursor.key;
    summaries.push({ runId, datasetId, modelKey, stage: stage as Stage, epoch, savedAt });
    cursor = await cursor.continue();
  }
  return summaries;
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const db = await getDB();
  await db.delete('checkpoints', runId);
}
