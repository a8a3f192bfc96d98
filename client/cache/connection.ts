/**
 * This context's one connection to Graft's database (schema.ts), opened and upgraded on first use, and the writes
 * that span it: one record in a transaction of its own, and "Delete everything". The page, every farm worker and
 * the trainer each import this module and so each hold one connection.
 */
import { openDB } from 'idb';
import { isQuotaExceeded } from './errors';
import { CACHE_STORES, DB_NAME, DB_VERSION, upgrade, type CacheStoreName, type GraftDB, type GraftDatabase } from './schema';

let dbPromise: Promise<GraftDatabase> | null = null;
let blockedListener: (() => void) | null = null;
let slowListener: (() => void) | null = null;
/** An open that has neither finished nor been blocked by now is said (onOpenSlow); it normally takes milliseconds. */
export const SLOW_OPEN_MS = 10_000;

/**
 * What runs when this context's upgrade waits for an older Graft tab that keeps the database open (one that
 * predates the close-on-blocking rule, or is frozen): the page says so (main.ts); without a listener a warning goes
 * to the console. The open completes by itself once that tab closes.
 */
export function onUpgradeBlocked(listener: (() => void) | null): void {
  blockedListener = listener;
}

/**
 * What runs when this context's open has neither finished nor been blocked after SLOW_OPEN_MS: the browser holds it
 * without a word, e.g. behind another tab's long upgrade. The open goes on and completes by itself.
 */
export function onOpenSlow(listener: (() => void) | null): void {
  slowListener = listener;
}

/** This context's connection, opened (and upgraded) on first use. */
export function getDB(): Promise<GraftDatabase> {
  if (dbPromise) return dbPromise;
  const slow = setTimeout(() => slowListener?.(), SLOW_OPEN_MS);
  dbPromise = openDB<GraftDB>(DB_NAME, DB_VERSION, {
    upgrade,
    blocked() {
      clearTimeout(slow);
      if (blockedListener) blockedListener();
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
