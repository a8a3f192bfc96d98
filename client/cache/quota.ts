/**
 * A full disk while saving a checkpoint or a classifier: the same plain "storage full" path as the feature
 * cache's CacheFullError (feature-store.ts). The message says what was not saved, what is kept and what takes
 * the room, so the visitor knows what to delete; the store's put is atomic, so nothing earlier is lost.
 */

import { getDB, type GraftDB } from './db';

export function isQuotaExceeded(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'QuotaExceededError';
}

/**
 * One put in a transaction of its own. A full disk fails either the put (QuotaExceededError) or, in Chromium, the
 * commit: the transaction aborts with tx.error QuotaExceededError while the put itself fails with AbortError;
 * either way this rejects with the QuotaExceededError.
 */
export async function putRecord<Name extends 'checkpoints' | 'classifiers'>(name: Name, value: GraftDB[Name]['value']): Promise<void> {
  const db = await getDB();
  const tx = db.transaction(name, 'readwrite');
  try {
    await Promise.all([tx.store.put(value), tx.done]);
  } catch (error) {
    await tx.done.catch(() => undefined);
    throw isQuotaExceeded(tx.error) ? tx.error : error;
  }
}

export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';

  constructor(
    /** What could not be saved, e.g. "the checkpoint after epoch 5". */
    readonly what: string,
    /** What stays as it was, e.g. "the one after epoch 4 is kept". */
    kept: string,
    /** Bytes of cached features on this browser (what a clear frees), or null if they could not be counted. */
    readonly featureBytes: number | null,
    options?: { cause?: unknown },
  ) {
    const room = featureBytes === null ? '' : `Cached features take ${(featureBytes / 1e6).toFixed(1)} MB: `;
    super(`storage full: ${what} could not be saved; ${kept}. ${room}free space or clear the cache under “Coming back”`, options);
  }
}
