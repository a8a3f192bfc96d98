/**
 * The page's side of publishing, in Node: the store of this browser's publications (fake-indexeddb) keeps each
 * delete key through a database upgrade and through "Delete everything", lists newest first and forgets on
 * request; the rules the panel states (which example photos, which file the classify page runs) and the words a
 * refusal is shown in.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { beforeEach, describe, expect, it } from 'vitest';
import { PublicationError } from '../../client/api/publications';
import { clearEverything, closeDB } from '../../client/cache/connection';
import { forgetPublication, listPublications, savePublication } from '../../client/cache/publication-store';
import { DB_NAME, DB_VERSION, type OwnPublication } from '../../client/cache/schema';
import type { DatasetChoice } from '../../client/page/dataset-source';
import { exampleOffer } from '../../client/page/publication-input';
import { publishErrorText } from '../../client/page/publisher';
import { formatLimit } from '../../client/page/text/format';
import { runnableKind, type CheckedTflite } from '../../client/tflite/verdict';
import { MAX_OPEN_PUBLICATION_BYTES } from '../../shared/publication';

const own = (id: string, publishedAt: number): OwnPublication => ({ id, name: `Classifier ${id}`, publishedAt, deleteKey: `key-${id}`, expiresAt: null });

describe('this browser’s publications', () => {
  beforeEach(async () => {
    await closeDB();
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
  });

  it('upgrades a version 3 database in place: its runs stay, and publications get their store', async () => {
    const old = await openDB(DB_NAME, 3, { upgrade: (db) => db.createObjectStore('runs', { keyPath: 'runId' }) });
    await old.put('runs', { runId: 'run-a' });
    old.close();
    await savePublication(own('a', 1));
    const db = await openDB(DB_NAME);
    expect([db.version, await db.count('runs'), await db.count('publications')]).toEqual([DB_VERSION, 1, 1]);
    db.close();
  });

  it('lists them newest first with their keys, and forgets one on request', async () => {
    await savePublication(own('old', 1_000));
    await savePublication(own('new', 2_000));
    expect((await listPublications()).map((p) => [p.id, p.deleteKey])).toEqual([['new', 'key-new'], ['old', 'key-old']]);
    await forgetPublication('old');
    expect((await listPublications()).map((p) => p.id)).toEqual(['new']);
  });

  it('keeps them through "Delete everything": a forgotten key would leave its publication online for good', async () => {
    await savePublication(own('a', 1));
    const cleared = await clearEverything();
    expect(Object.keys(cleared)).not.toContain('publications');
    expect((await listPublications()).map((p) => p.id)).toEqual(['a']);
  });
});

/** A dataset of `counts[c]` images in class c. */
function dataset(counts: Record<string, number>): DatasetChoice {
  const images = Object.entries(counts).flatMap(([name, n]) =>
    Array.from({ length: n }, (_, i) => ({ imageId: `${name}-${i}`, class: name, file: `${i}.jpg`, bytes: () => Promise.resolve(new Blob()) })),
  );
  return { id: 'd', name: 'D', classes: Object.keys(counts), images, skipped: [], local: true };
}

describe('what the panel says a publication holds', () => {
  it('offers as many photos of each class as 12 allow, fewer where a class has fewer, 256 px JPEGs', () => {
    expect(exampleOffer(dataset({ a: 10, b: 10, c: 10 }), ['a', 'b', 'c'])).toEqual({ perClass: 4, count: 12, side: 256 });
    expect(exampleOffer(dataset({ a: 10, b: 2 }), ['a', 'b'])).toEqual({ perClass: 6, count: 8, side: 256 });
    // More classes than photos allowed: one of each of the first 12.
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, 3]));
    expect(exampleOffer(dataset(many), Object.keys(many))).toEqual({ perClass: 1, count: 12, side: 256 });
  });

  it('runs the int8 file only where it passed its check and agrees with TF.js on at least 99% of the held-out photos', () => {
    const int8 = (agreement: number, zip: Uint8Array | null = new Uint8Array(1)) =>
      ({ kind: 'int8', zip, check: { agreement, accuracy: 1, msPerImage: 1, input: { dtype: 'uint8', shape: [] }, output: { dtype: 'float32', shape: [] } } }) as unknown as CheckedTflite;
    expect(runnableKind(int8(1))).toBe('int8');
    expect(runnableKind(int8(0.99))).toBe('int8');
    expect(runnableKind(int8(0.985))).toBe('float32');
    expect(runnableKind(int8(1, null))).toBe('float32');
    expect(runnableKind(null)).toBe('float32');
  });
});

describe('a refusal in words', () => {
  it('names the limit, says when to try again, and what a wrong token or key means', () => {
    expect(formatLimit(MAX_OPEN_PUBLICATION_BYTES)).toBe('8 MB');
    expect(publishErrorText(new PublicationError('the publication is larger than 8 MB (8388608 bytes), the most one publication may hold here', 413))).toBe(
      'Too large to publish: the publication is larger than 8 MB (8388608 bytes), the most one publication may hold here.',
    );
    expect(publishErrorText(new PublicationError('too many publications from your address: try again in 60 seconds', 429, 42))).toBe(
      'Too many publications from your address just now: try again in 42 s.',
    );
    expect(publishErrorText(new PublicationError('the admin token is wrong', 401))).toBe('Not published: the admin token is wrong. Check the admin token and try again.');
    expect(publishErrorText(new PublicationError('that is not the delete key of publication x', 403))).toBe('Refused: that is not the delete key of publication x.');
    expect(publishErrorText(new PublicationError('/api/publications: Failed to fetch', 0))).toBe('Could not reach the server: /api/publications: Failed to fetch. Nothing was published.');
  });
});
