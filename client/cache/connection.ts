/**
 * This context's one connection to Graft's database (schema.ts), opened and upgraded on first use, and the writes
 * that span it: one record in a transaction of its own, and "Delete everything". The page, every farm worker and
 * the trainer each import this module and so each hold one connection.
 */
import { openDB } from 'idb';
import { isQuotaExceeded } from './errors';
import { CACHE_STORES, DB_NAME, DB_VERSION, upgrade, type CacheStoreName, type GraftDB, type GraftDatabase } from './schema';

let dbPromise: Promise<GraftDatabase> | null = null;
/**
 * Why this context's open waits: an older Graft tab keeps the database open and blocks the upgrade ('blocked': one
 * that predates the close-on-blocking rule, or is frozen), or the browser has held the open without a word for
 * SLOW_OPEN_MS ('slow': e.g. behind another tab's long upgrade). Either way the open completes by itself.
 */
export type OpenWait = 'blocked' | 'slow';

let waitingListener: ((why: OpenWait) => void) | null = null;
/** An open that has neither finished nor been blocked by now is said ('slow'); it normally takes milliseconds. */
export const SLOW_OPEN_MS = 10_000;

/**
 * What runs when this context's open waits, and why (a blocked open is not said to be slow as well). The
 * page says so and takes it back once getDB() settles (main.ts); without a listener a blocked upgrade is warned of
 * in the console.
 */
export function onOpenWaiting(listener: ((why: OpenWait) => void) | null): void {
  waitingListener = listener;
}

/** This context's connection, opened (and upgraded) on first use. */
export function getDB(): Promise<GraftDatabase> {
  if (dbPromise) return dbPromise;
  const slow = setTimeout(() => waitingListener?.('slow'), SLOW_OPEN_MS);
  dbPromise = openDB<GraftDB>(DB_NAME, DB_VERSION, {
    upgrade,
    blocked() {
      clearTimeout(slow);
      if (waitingListener) waitingListener('blocked');
      else console.warn('Graft: another tab holds an older version of the cache open; close it to continue.');
    },
    blocking() {
      // A newer Graft wants to upgrade: step aside. Our next call reopens and fails with a VersionError,
      // which is right: this tab's code is now older than the data.
      void closeDB();
    },
    terminated() {
      // The browser closed the connection (e.g. storage cleared): reopen on next use.
      dbPromise = null;
    },
  });
  const opening = dbPromise;
  // A failed open must not stick: the next call tries again.
  opening.then(
    () => clearTimeout(slow),
    () => {
      clearTimeout(slow);
      if (dbPromise === opening) dbPromise = null;
    },
  );
  return opening;
}

/** Closes this context's connection (the next call to getDB opens a new one). */
export async function closeDB(): Promise<void> {
  const opening = dbPromise;
  dbPromise = null;
  if (!opening) return;
  try {
    (await opening).close();
  } catch {
    // The open failed: there is nothing to close.
  }
}

/**
 * One put in a transaction of its own. A full disk fails either the put (QuotaExceededError) or, in Chromium, the
 * commit: the transaction aborts with tx.error QuotaExceededError while the put itself fails with AbortError;
 * either way this rejects with the QuotaExceededError.
 */
export async function putOne<Name extends 'checkpoints' | 'classifiers'>(name: Name, value: GraftDB[Name]['value']): Promise<void> {
  const db = await getDB();
  const tx = db.transaction(name, 'readwrite');
  try {
    await Promise.all([tx.store.put(value), tx.done]);
  } catch (error) {
    await tx.done.catch(() => undefined);
    throw isQuotaExceeded(tx.error) ? tx.error : error;
  }
}

/**
 * Empties every cache store (CACHE_STORES) in one transaction: all of it or, if anything fails, none of it.
 * Returns how many records each store held.
 */
export async function clearEverything(): Promise<Record<CacheStoreName, number>> {
  const db = await getDB();
  const tx = db.transaction(CACHE_STORES, 'readwrite');
  const counts = await Promise.all(CACHE_STORES.map((name) => tx.objectStore(name).count()));
  await Promise.all([...CACHE_STORES.map((name) => tx.objectStore(name).clear()), tx.done]);
  return Object.fromEntries(CACHE_STORES.map((name, i) => [name, counts[i]])) as Record<CacheStoreName, number>;
}
