/**
 * Graft's IndexedDB in the browser under test, read with the raw API (not the page's code, whose mistakes a test
 * must not share): how many records each store holds, the records under some keys or of a whole store, or what a
 * test computes in the page from a whole store; and one write, a store emptied as a visitor's tools could. Each is
 * one transaction on a connection of its own, closed after it. Types only from client/cache/schema.ts: nothing of
 * the page's code runs here.
 */
import type { StoreNames, StoreValue } from 'idb';
import type { JSHandle, Page } from 'playwright-core';
import type { GraftDB } from '../../client/cache/schema';
import { within } from '../../tools/measure/within';

type Store = StoreNames<GraftDB>;

/** A read blocked by a connection that never closes fails with its name instead of at the test's limit. */
const READ_LIMIT_MS = 60_000;

type Read =
  | { kind: 'count-each' }
  | { kind: 'count'; store: Store }
  | { kind: 'get-all'; store: Store }
  | { kind: 'get'; store: Store; keys: string[] }
  | { kind: 'clear'; store: Store };

/** Runs in the page: page.evaluate sends this function's source alone, so it uses nothing from outside it. */
async function readInPage(read: Read): Promise<unknown> {
  const result = <T,>(request: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('graft');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    if (read.kind === 'count-each') {
      const names = Array.from(db.objectStoreNames);
      const tx = db.transaction(names);
      const counts = await Promise.all(names.map((name) => result(tx.objectStore(name).count())));
      return Object.fromEntries(names.map((name, i) => [name, counts[i]]));
    }
    const store = db.transaction(read.store, read.kind === 'clear' ? 'readwrite' : 'readonly').objectStore(read.store);
    if (read.kind === 'clear') return await result(store.clear());
    if (read.kind === 'count') return await result(store.count());
    if (read.kind === 'get-all') return await result(store.getAll());
    return await Promise.all(read.keys.map((key) => result(store.get(key))));
  } finally {
    db.close();
  }
}

/**
 * Runs in the page on a read's result: page.evaluate brings typed arrays back but an ArrayBuffer as {}, so each
 * crosses as { arrayBuffer: Uint8Array } and restoreArrayBuffers makes it an ArrayBuffer again.
 */
function portableInPage(value: unknown): unknown {
  const portable = (v: unknown): unknown =>
    v instanceof ArrayBuffer
      ? { arrayBuffer: new Uint8Array(v) }
      : Array.isArray(v)
        ? v.map(portable)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([key, field]) => [key, portable(field)]))
          : v;
  return portable(value);
}

function restoreArrayBuffers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(restoreArrayBuffers);
  if (value === null || typeof value !== 'object') return value;
  const { arrayBuffer } = value as { arrayBuffer?: unknown };
  if (arrayBuffer instanceof Uint8Array && Object.keys(value).length === 1) {
    return arrayBuffer.buffer.slice(arrayBuffer.byteOffset, arrayBuffer.byteOffset + arrayBuffer.byteLength);
  }
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, restoreArrayBuffers(field)]));
}

/** `inspect` run in the page on a read's result, which stays there: only what `inspect` returns crosses over. */
async function inspectRead<T, R>(page: Page, read: Read, inspect: (result: T) => R | Promise<R>): Promise<R> {
  const result = (await within('reading IndexedDB', READ_LIMIT_MS, page.evaluateHandle(readInPage, read))) as JSHandle<T>;
  try {
    return (await within('inspecting what IndexedDB holds', READ_LIMIT_MS, result.evaluate(inspect))) as R;
  } finally {
    await result.dispose();
  }
}

async function evaluateRead(page: Page, read: Read): Promise<unknown> {
  return restoreArrayBuffers(await inspectRead(page, read, portableInPage));
}

/** Records in each of Graft's stores, counted in one transaction. */
export function countEachStore(page: Page): Promise<Record<string, number>> {
  return evaluateRead(page, { kind: 'count-each' }) as Promise<Record<string, number>>;
}

/** Deletes every record of one store. */
export async function deleteAllRecords(page: Page, store: Store): Promise<void> {
  await evaluateRead(page, { kind: 'clear', store });
}

/** Records in one store. */
export function countRecords(page: Page, store: Store): Promise<number> {
  return evaluateRead(page, { kind: 'count', store }) as Promise<number>;
}

/** The records under `keys`, in order, undefined where there is none (ArrayBuffers and all). */
export function getRecords<S extends Store>(page: Page, store: S, keys: string[]): Promise<(StoreValue<GraftDB, S> | undefined)[]> {
  return evaluateRead(page, { kind: 'get', store, keys }) as Promise<(StoreValue<GraftDB, S> | undefined)[]>;
}

/** Every record of a store (for small stores: they all cross over to Node). */
export function getAllRecords<S extends Store>(page: Page, store: S): Promise<StoreValue<GraftDB, S>[]> {
  return evaluateRead(page, { kind: 'get-all', store }) as Promise<StoreValue<GraftDB, S>[]>;
}

/**
 * What `inspect`, run in the page, makes of every record of a store: only its answer crosses over, not the records
 * (a store of cut activations holds tens of MB), and it can use the browser (decode an image, hash its bytes).
 * Like any page.evaluate function, `inspect` must use nothing from outside it.
 */
export function inspectAllRecords<S extends Store, R>(page: Page, store: S, inspect: (records: StoreValue<GraftDB, S>[]) => R | Promise<R>): Promise<R> {
  return inspectRead(page, { kind: 'get-all', store }, inspect);
}
