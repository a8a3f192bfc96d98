/**
 * The zip of a dataset built in the page, on real photos: what is written reads back as the same classes and the
 * same bytes, unzipped it is a folder `npm run seed` scans as those classes, and a zip of another layout or no
 * zip at all is read as far as it can be, with the reason for each entry left out.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { zipSync, unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { unzipDataset, zipDataset, ZipReadError, ZIP_ROOT, type ZipClass } from '../../client/page/dataset-zip';
import { scanClassFolders } from '../../tools/ingest/class-folders';
import { SHARED } from '../support/graft-fixture';

async function photos(dir: string, count: number): Promise<ZipClass['files']> {
  const names = (await readdir(join(SHARED, 'datasets', dir))).sort().slice(0, count);
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(SHARED, 'datasets', dir, name))) })));
}

const temp: string[] = [];
afterAll(async () => {
  await Promise.all(temp.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('dataset zip', () => {
  it('reads back the classes and bytes it wrote, in a layout the seed scans as the same classes', async () => {
    const classes: ZipClass[] = [
      { name: 'cats', files: await photos('cats_vs_dogs/cats', 3) },
      { name: 'my dogs', files: await photos('cats_vs_dogs/dogs', 2) },
    ];
    const zip = zipDataset(classes);
    const back = unzipDataset(zip);
    expect(back.skipped).toEqual([]);
    expect(back.classes.map((c) => c.name)).toEqual(['cats', 'my dogs']);
    for (const [i, c] of back.classes.entries()) {
      expect(c.files.map((f) => f.name).sort()).toEqual(classes[i].files.map((f) => f.name).sort());
      for (const file of c.files) expect(Buffer.from(file.bytes).equals(Buffer.from(classes[i].files.find((f) => f.name === file.name)!.bytes))).toBe(true);
    }

    // Unzipped as a person would: one folder, the class folders inside it.
    const dir = await mkdtemp(join(tmpdir(), 'graft-zip-'));
    temp.push(dir);
    for (const [path, bytes] of Object.entries(unzipSync(zip))) {
      expect(path.startsWith(`${ZIP_ROOT}/`)).toBe(true);
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), bytes);
    }
    const scan = await scanClassFolders(join(dir, ZIP_ROOT));
    expect(scan.skipped).toEqual([]);
    expect(scan.classes.map((c) => [c.name, c.files.length])).toEqual([['cats', 3], ['my dogs', 2]]);
  });

  it('reads class folders at the top of the zip too, and lists what it leaves out', async () => {
    const [cat] = await photos('cats_vs_dogs/cats', 1);
    const [dog] = await photos('cats_vs_dogs/dogs', 1);
    const zip = zipSync({
      'cats/a.jpg': cat.bytes,
      'dogs/b.jpg': dog.bytes,
      'README.txt': new TextEncoder().encode('hello'),
      'dogs/notes.txt': new TextEncoder().encode('not an image'),
      '__MACOSX/dogs/._b.jpg': new Uint8Array([0, 5, 22, 7]),
    });
    const back = unzipDataset(zip);
    expect(back.classes.map((c) => [c.name, c.files.map((f) => f.name)])).toEqual([['cats', ['a.jpg']], ['dogs', ['b.jpg']]]);
    expect(back.skipped.map((s) => s.file)).toEqual(['README.txt', '__MACOSX/dogs/._b.jpg', 'dogs/notes.txt']);
  });

  it('says so when the file is not a zip or holds no class folder', () => {
    expect(() => unzipDataset(new TextEncoder().encode('plain text, not a zip'))).toThrow(ZipReadError);
    expect(() => unzipDataset(zipSync({ 'a.jpg': new Uint8Array([1, 2, 3]) }))).toThrow(/no images inside class folders/);
  });
});
