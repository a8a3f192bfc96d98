/**
 * The store of the dataset built in the page, on fake-indexeddb with real photos: classes are added, renamed and
 * deleted (with their samples), a bad name changes nothing, samples are added once (the same bytes twice are
 * reported, in any class), moved and deleted, and everything is there for a fresh connection (a reload).
 * The dataset the page trains on from it keys images by content hash and changes id with the content.
 * A database of version 1 (features only) is upgraded in place and keeps its features.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openDB } from 'idb';
import { beforeEach, describe, expect, it } from 'vitest';
import { closeDB, getDB } from '../../client/cache/connection';
import { DB_NAME } from '../../client/cache/schema';
import { StorageFullError } from '../../client/cache/errors';
import {
  addClass,
  addSamples,
  deleteClass,
  deleteSamples,
  importClass,
  LocalDatasetError,
  moveSample,
  readLocalDataset,
  readSampleImage,
  renameClass,
  type NewSample,
} from '../../client/cache/sample-store';
import { onDeviceDataset } from '../../client/page/dataset-source';
import { SHARED } from '../support/graft-fixture';

async function photos(dir: string, count: number): Promise<NewSample[]> {
  const names = (await readdir(join(SHARED, 'datasets', dir))).sort().slice(0, count);
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(SHARED, 'datasets', dir, name));
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      return { id: createHash('sha256').update(bytes).digest('hex'), bytes: buffer, type: 'image/jpeg' };
    }),
  );
}

async function freshDatabase(): Promise<void> {
  await closeDB();
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

beforeEach(freshDatabase);

describe('local dataset store', () => {
  it('keeps classes and samples across a new connection, and deletes a class with its samples', async () => {
    const cats = await addClass('cats');
    const dogs = await addClass('dogs');
    const catPhotos = await photos('cats_vs_dogs/cats', 3);
    const dogPhotos = await photos('cats_vs_dogs/dogs', 2);
    expect((await addSamples(cats.id, catPhotos)).added).toHaveLength(3);
    expect((await addSamples(dogs.id, dogPhotos)).added).toHaveLength(2);
    await renameClass(dogs.id, 'Dogs');

    await closeDB(); // as a reload does
    const back = await readLocalDataset();
    expect(back.classes.map((c) => c.name)).toEqual(['cats', 'Dogs']);
    expect(back.samples.map((s) => s.id)).toEqual([...catPhotos, ...dogPhotos].map((p) => p.id));
    const image = await readSampleImage(back.samples[0].id);
    expect(Buffer.from(await image!.arrayBuffer()).equals(Buffer.from(catPhotos[0].bytes))).toBe(true);

    expect(await deleteClass(cats.id)).toBe(3);
    const after = await readLocalDataset();
    expect(after.classes.map((c) => c.name)).toEqual(['Dogs']);
    expect(after.samples.map((s) => s.classId)).toEqual([dogs.id, dogs.id]);
  });

  it('refuses a bad or taken class name and changes nothing', async () => {
    const cats = await addClass('cats');
    for (const bad of ['', ' cats', 'a/b', '.hidden', 'CATS', 'x'.repeat(201)]) {
      await expect(addClass(bad)).rejects.toThrow(LocalDatasetError);
    }
    await addClass('dogs');
    await expect(renameClass(cats.id, 'Dogs')).rejects.toThrow(/already a class named/);
    expect((await readLocalDataset()).classes.map((c) => c.name)).toEqual(['cats', 'dogs']);
  });

  it('keeps names NFC, takes “café” typed either way as one name, and refuses line breaks by their name', async () => {
    const nfd = 'cafe\u0301';
    const cafe = await addClass(nfd);
    expect(cafe.name).toBe('café'.normalize('NFC'));
    await expect(addClass('Café')).rejects.toThrow('There is already a class named “Café”.');
    await expect(addClass('CAFE\u0301')).rejects.toThrow(LocalDatasetError);
    // Full case mapping: one name in German, as on a file system that folds case.
    await addClass('Straße');
    await expect(addClass('STRASSE')).rejects.toThrow('There is already a class named “STRASSE”.');
    for (const [bad, named] of [
      ['a\u2028b', 'U+2028 (line separator)'],
      ['a\u2029b', 'U+2029 (paragraph separator)'],
      ['a\u0085b', 'U+0085 (next line)'],
      ['a\u007fb', 'U+007F (a control character)'],
      ['ab\u202ec', 'U+202E (right-to-left override)'],
      ['a\u200bb', 'U+200B (zero width space)'],
    ]) {
      await expect(addClass(bad)).rejects.toThrow(`A class name cannot contain ${named}.`);
      await expect(renameClass(cafe.id, bad)).rejects.toThrow(`A class name cannot contain ${named}.`);
    }
    // Emoji sequences keep their zero-width joiners; a rename to the other spelling of its own name is stored NFC.
    await addClass('👩\u200d💻');
    expect((await renameClass(cafe.id, 'CAFE\u0301')).name).toBe('CAFÉ');
    expect((await readLocalDataset()).classes.map((c) => c.name)).toEqual(['CAFÉ', 'Straße', '👩\u200d💻']);
  });

  it('adds the same image once, moves and deletes samples, and refuses a class that is gone', async () => {
    const cats = await addClass('cats');
    const dogs = await addClass('dogs');
    const [a, b] = await photos('cats_vs_dogs/cats', 2);
    await addSamples(cats.id, [a]);
    const again = await addSamples(dogs.id, [a, b, b]);
    expect(again.added.map((s) => s.id)).toEqual([b.id]);
    expect(again.duplicates).toEqual([{ id: a.id, classId: cats.id }, { id: b.id, classId: dogs.id }]);

    await moveSample(a.id, dogs.id);
    expect((await readLocalDataset()).samples.map((s) => [s.id, s.classId])).toEqual([[a.id, dogs.id], [b.id, dogs.id]]);
    await deleteSamples([b.id]);
    expect((await readLocalDataset()).samples.map((s) => s.id)).toEqual([a.id]);

    await deleteClass(cats.id);
    await expect(moveSample(a.id, cats.id)).rejects.toThrow(/no longer exists/);
    await expect(addSamples(cats.id, [b])).rejects.toThrow(/nothing was added/);
    expect((await readLocalDataset()).samples.map((s) => [s.id, s.classId])).toEqual([[a.id, dogs.id]]);
  });

  it('is a dataset like any other: image ids are content hashes, a move keeps them, the id follows the content', async () => {
    const cats = await addClass('cats');
    await expect(onDeviceDataset()).rejects.toThrow(/at least two classes/);
    const dogs = await addClass('dogs');
    await addClass('empty');
    const catPhotos = await photos('cats_vs_dogs/cats', 2);
    const dogPhotos = await photos('cats_vs_dogs/dogs', 2);
    await addSamples(cats.id, catPhotos);
    await addSamples(dogs.id, dogPhotos);
    const first = await onDeviceDataset();
    // A class without samples is not trained on.
    expect(first.classes).toEqual(['cats', 'dogs']);
    expect(first.images.map((i) => [i.imageId, i.class])).toEqual([...catPhotos.map((p) => [p.id, 'cats']), ...dogPhotos.map((p) => [p.id, 'dogs'])]);
    const bytes = Buffer.from(await (await first.images[0].bytes()).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(first.images[0].imageId);
    expect(await onDeviceDataset().then((d) => d.id)).toBe(first.id);

    await moveSample(dogPhotos[0].id, cats.id);
    const moved = await onDeviceDataset();
    expect(moved.id).not.toBe(first.id);
    expect(moved.images.map((i) => i.imageId).sort()).toEqual(first.images.map((i) => i.imageId).sort());
    expect(moved.images.find((i) => i.imageId === dogPhotos[0].id)?.class).toBe('cats');
  });

  it('imports a class whole or not at all: a new class with its samples, a class of that name joined, none for nothing new', async () => {
    const cats = await addClass('Cats');
    const [a, b, c] = await photos('cats_vs_dogs/cats', 3);
    await addSamples(cats.id, [a]);
    // "cats" is the class "Cats": it takes the samples; the one it has is a duplicate.
    const joined = await importClass('cats', [a, b]);
    expect([joined.class?.id, joined.created, joined.added.map((s) => s.id), joined.duplicates.map((d) => d.id)]).toEqual([cats.id, false, [b.id], [a.id]]);
    const dogs = await importClass('dogs', [c]);
    expect([dogs.class?.name, dogs.created, dogs.added]).toEqual(['dogs', true, [{ id: c.id, classId: dogs.class!.id }]]);
    // Nothing new for a new class: no class is made.
    expect(await importClass('owls', [a])).toMatchObject({ class: null, created: false, added: [] });
    const back = await readLocalDataset();
    expect(back.classes.map((x) => x.name)).toEqual(['Cats', 'dogs']);
    expect(back.samples.map((s) => [s.id, s.classId])).toEqual([[a.id, cats.id], [b.id, cats.id], [c.id, dogs.class!.id]]);
    await expect(importClass('a/b', [c])).rejects.toThrow(LocalDatasetError);
  });

  it('says “Browser storage is full”, what was not added and that nothing changed, when a write does not fit', async () => {
    const cats = await addClass('cats');
    const [a, b, c] = await photos('cats_vs_dogs/cats', 3);
    const real = IDBObjectStore.prototype.put;
    // Chromium aborts the transaction at commit with QuotaExceededError (an empty message); fake-indexeddb's _abort does so.
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      const request = real.apply(this, args);
      (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return request;
    };
    try {
      const adding = await addSamples(cats.id, [a, b]).catch((e: unknown) => e);
      expect(adding).toBeInstanceOf(StorageFullError);
      expect((adding as Error).message).toBe(
        'Browser storage is full: the 2 samples for “cats” could not be saved; none of them was added. Free space on this computer, or delete what you no longer need here',
      );
      const importing = await importClass('dogs', [c]).catch((e: unknown) => e);
      expect((importing as Error).message).toMatch(/^Browser storage is full: a sample for “dogs” could not be saved; it was not added\. /);
    } finally {
      IDBObjectStore.prototype.put = real;
    }
    const back = await readLocalDataset();
    expect([back.classes.map((x) => x.name), back.samples]).toEqual([['cats'], []]);
  });

  it('upgrades a version 1 database in place: its features stay', async () => {
    const old = await openDB(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore('features', { keyPath: 'key' });
        db.createObjectStore('checkpoints', { keyPath: 'runId' });
        db.createObjectStore('classifiers', { keyPath: 'runId' });
      },
    });
    await old.put('features', { key: 'kept', datasetId: 'd' });
    old.close();
    const db = await getDB();
    expect(await db.get('features', 'kept')).toMatchObject({ datasetId: 'd' });
    const cats = await addClass('cats');
    expect((await readLocalDataset()).classes).toEqual([cats]);
  });
});
