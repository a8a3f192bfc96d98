/**
 * Saved classifiers: a finished run's model as tf.io.ModelArtifacts-shaped plain data (the trainer turns
 * it back into a model with tf.io.fromMemory), so this module needs no tfjs. One record per run.
 * Listing reads the `summary` index's keys, which hold every listed field, so it never loads weights.
 */
import { getDB, putOne } from './connection';
import { isQuotaExceeded, StorageFullError } from './errors';
import { cachedFeatureBytes } from './feature-store';
import type { ClassifierRecord } from './schema';

export type ClassifierSummary = Pick<ClassifierRecord, 'runId' | 'name' | 'classes' | 'savedAt'>;

function checkClassifier(record: ClassifierRecord): void {
  if (typeof record.runId !== 'string' || record.runId.length === 0) throw new TypeError('classifier runId is empty');
  if (typeof record.name !== 'string' || record.name.trim().length === 0) throw new TypeError('classifier name is empty');
  if (!Array.isArray(record.classes) || record.classes.length === 0 || !record.classes.every((c) => typeof c === 'string')) {
    throw new TypeError('classifier classes must be a non-empty list of names');
  }
  if (!Number.isFinite(record.savedAt)) throw new TypeError(`classifier savedAt must be a time, got ${record.savedAt}`);
  if (!(record.artifacts?.weightData instanceof ArrayBuffer)) throw new TypeError('classifier artifacts need weightData as one ArrayBuffer');
  if (!Array.isArray(record.artifacts.weightSpecs)) throw new TypeError('classifier artifacts need weightSpecs');
}

/**
 * Stores (or replaces) the classifier of `record.runId` in a single put. Throws StorageFullError when the
 * browser's quota is exhausted.
 */
export async function saveClassifier(record: ClassifierRecord): Promise<void> {
  checkClassifier(record);
  try {
    await putOne('classifiers', record);
  } catch (error) {
    if (!isQuotaExceeded(error)) throw error;
    const bytes = await cachedFeatureBytes().catch(() => null);
    throw new StorageFullError(`the classifier “${record.name}”`, 'the classifiers saved before are kept', bytes, { cause: error });
  }
}

export async function loadClassifier(runId: string): Promise<ClassifierRecord | undefined> {
  const db = await getDB();
  return db.get('classifiers', runId);
}

/** Every saved classifier, newest first, without its artifacts. */
export async function listClassifiers(): Promise<ClassifierSummary[]> {
  const db = await getDB();
  const summaries: ClassifierSummary[] = [];
  let cursor = await db.transaction('classifiers').store.index('summary').openKeyCursor(null, 'prev');
  while (cursor) {
    const [savedAt, runId, name, classes] = cursor.key;
    summaries.push({ runId, name, classes, savedAt });
    cursor = await cursor.continue();
  }
  return summaries;
}

export async function deleteClassifier(runId: string): Promise<void> {
  const db = await getDB();
  await db.delete('classifiers', runId);
}
