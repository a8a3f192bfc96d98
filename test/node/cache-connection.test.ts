/**
 * The cache's connection (connection.ts) on fake-indexeddb says why its open waits, through its one listener: an
 * older tab that keeps the database open and blocks the upgrade ('blocked', at once, and not later as 'slow'), or
 * an open that has not finished after SLOW_OPEN_MS ('slow'); an open that finishes in time says nothing. Each open
 * completes by itself once the wait ends. Timers are faked (setTimeout only: fake-indexeddb runs on setImmediate).
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SLOW_OPEN_MS, closeDB, getDB, onOpenWaiting, type OpenWait } from '../../client/cache/connection';
import { DB_NAME, DB_VERSION } from '../../client/cache/schema';

let said: OpenWait[];

beforeEach(async () => {
  said = [];
  onOpenWaiting((why) => said.push(why));
  await closeDB();
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(async () => {
  vi.useRealTimers();
  onOpenWaiting(null);
  await closeDB();
});

/** An older version of the database, held open by a tab that does not step aside for an upgrade. */
function olderTabHoldingIt(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION - 1);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

it('says an open blocked by an older tab at once, not again as slow, and opens once that tab closes', async () => {
  const older = await olderTabHoldingIt();
  const opening = getDB();
  await vi.waitFor(() => expect(said).toEqual(['blocked']), { timeout: 5_000 });
  vi.advanceTimersByTime(SLOW_OPEN_MS);
  expect(said).toEqual(['blocked']);
  older.close();
  expect((await opening).version).toBe(DB_VERSION);
});

it('says an open that has not finished after SLOW_OPEN_MS is slow, and says nothing of one that finished in time', async () => {
  const opening = getDB();
  // The clock moves on before the open can finish: it is still waiting when the limit passes.
  vi.advanceTimersByTime(SLOW_OPEN_MS - 1);
  expect(said).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(said).toEqual(['slow']);
  await opening;

  await closeDB();
  said = [];
  await getDB();
  vi.advanceTimersByTime(SLOW_OPEN_MS);
  expect(said).toEqual([]);
});
