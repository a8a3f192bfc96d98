/**
 * The one way a full disk reaches the visitor: StorageFullError, whatever store refused the write (a batch of
 * features, a checkpoint, a classifier). Its message says what was not saved, what is kept and what takes the
 * room, so the visitor knows what to delete; every store's write is atomic, so nothing earlier is lost.
 */

/** The browser's own refusal, as IndexedDB reports it (on a request, or on the transaction at commit). */
export function isQuotaExceeded(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'QuotaExceededError';
}

const STORAGE_FULL = 'StorageFullError';

export class StorageFullError extends Error {
  override readonly name = STORAGE_FULL;

  constructor(
    /** What could not be saved, e.g. "the checkpoint after epoch 5". */
    readonly what: string,
    /** What stays as it was, e.g. "the one after epoch 4 is kept". */
    kept: string,
    /** Bytes of cached features on this browser (what a clear frees), or null if they could not be counted. */
    readonly featureBytes: number | null,
    options?: { cause?: unknown },
  ) {
    const room = featureBytes ? `Cached features take ${(featureBytes / 1e6).toFixed(1)} MB: free space or clear the cache under “Coming back”` : 'Free space on this computer, or delete what you no longer need here';
    super(`Browser storage is full: ${what} could not be saved; ${kept}. ${room}`, options);
  }
}

/**
 * Whether `error` is a StorageFullError, also after it crossed a worker boundary: comlink sends an error as its
 * name and message only, so the page sees a plain Error named like it.
 */
export function isStorageFull(error: unknown): boolean {
  return error instanceof StorageFullError || (error as { name?: unknown } | null)?.name === STORAGE_FULL;
}
