/**
 * Training runs as the page keeps them (store `runs`, one record per run, saving replaces it). Every record read
 * back passes the one normaliser (shared/run-record.ts), so an older page's record comes with the values its
 * run used. Runs lived in localStorage before database version 3: moveLegacyRuns() brings them here once.
 */
import { parseRunRecord, RunRecordError, type RunRecord } from '../../shared/run-record';
import { getDB } from './connection';

/** Where pages before database version 3 kept each run: localStorage key PREFIX + runId. */
export const LEGACY_RUN_PREFIX = 'graft.run.';

export async function saveRun(run: RunRecord): Promise<void> {
  const db = await getDB();
  await db.put('runs', parseRunRecord(run));
}

/** The run, or null when this browser has no record of it; throws RunRecordError for a record that cannot be read. */
export async function loadRun(runId: string): Promise<RunRecord | null> {
  const db = await getDB();
  const stored = await db.get('runs', runId);
  return stored === undefined ? null : parseRunRecord(stored);
}

/** Every run this browser has a readable record of; one that cannot be read is left out (and stays stored). */
export async function listRuns(): Promise<RunRecord[]> {
  const db = await getDB();
  return (await db.getAll('runs')).flatMap((stored) => {
    try {
      return [parseRunRecord(stored)];
    } catch (error) {
      if (!(error instanceof RunRecordError)) throw error;
      console.warn(`Graft: ${error.message}`);
      return [];
    }
  });
}

/**
 * Moves the runs an older page kept in `storage` (localStorage) into the store, in one transaction, and then
 * deletes them there; a record that cannot be read stays in `storage`, and a run the store has already is not
 * overwritten. Returns how many were moved and which were left, with the reason.
 */
export async function moveLegacyRuns(storage: Storage): Promise<{ moved: number; left: string[] }> {
  const found = Array.from({ length: storage.length }, (_, i) => storage.key(i)).filter((key): key is string => key?.startsWith(LEGACY_RUN_PREFIX) ?? false);
  const runs: { key: string; run: RunRecord }[] = [];
  const left: string[] = [];
  for (const key of found) {
    try {
      runs.push({ key, run: parseRunRecord(JSON.parse(storage.getItem(key) ?? 'null')) });
    } catch (error) {
      left.push(`${key}: ${(error as Error).message}`);
    }
  }
  if (runs.length === 0) return { moved: 0, left };
  const db = await getDB();
  const tx = db.transaction('runs', 'readwrite');
  const known = await Promise.all(runs.map(({ run }) => tx.store.getKey(run.runId)));
  await Promise.all([...runs.filter((_, i) => known[i] === undefined).map(({ run }) => tx.store.put(run)), tx.done]);
  // Only once the transaction has committed: a failed move leaves every record where it was.
  for (const { key } of runs) storage.removeItem(key);
  return { moved: runs.length, left };
}
