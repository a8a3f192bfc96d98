/**
 * The zip of a dataset built in the page, on real photos: what is written reads back as the same classes and the
 * same bytes, unzipped it is a folder `npm run seed` scans as those classes, and a zip of another layout or no
 * zip at all is read as far as it can be, with the reason for each entry left out.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { zipSync, unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { readZipDataset, zipDataset, ZipReadError, ZIP_ROOT, type ZipClass } from '../../client/page/dataset-zip';
import { cp437, zipEntryName, ZIP_UTF8_FLAG } from '../../shared/zip-entry-name';
import { scanClassFolders } from '../../tools/ingest/class-folders';
import { SHARED } from '../support/graft-fixture';

async function photos(dir: string, count: number): Promise<ZipClass['files']> {
  const names = (await readdir(join(SHARED, 'datasets', dir))).sort().slice(0, count);
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(SHARED, 'datasets', dir, name))) })));
}

/** The page reads a zip from a Blob (the file the visitor picked). */
const unzipDataset = (zip: Uint8Array) => readZipDataset(new Blob([zip as Uint8Array<ArrayBuffer>]));

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
    const back = await unzipDataset(zip);
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
    const back = await unzipDataset(zip);
    expect(back.classes.map((c) => [c.name, c.files.map((f) => f.name)])).toEqual([['cats', ['a.jpg']], ['dogs', ['b.jpg']]]);
    expect(back.skipped.map((s) => s.file)).toEqual(['README.txt', '__MACOSX/dogs/._b.jpg', 'dogs/notes.txt']);
  });

  it('writes names Windows refuses (CON, a:b?*, a trailing dot) as folders it holds, and reads them back as they were', async () => {
    const [cat] = await photos('cats_vs_dogs/cats', 1);
    const names = ['CON', 'nul.tar.gz', 'Com1', 'a:b?*', 'x<y>|"z"', 'cats.', '100%', '%41', 'café'];
    const zip = zipDataset(names.map((name) => ({ name, files: [cat] })));
    const folders = Object.keys(unzipSync(zip)).map((path) => path.split('/')[1]!);
    expect(folders).toEqual(['%43ON', '%6Eul.tar.gz', '%43om1', 'a%3Ab%3F%2A', 'x%3Cy%3E%7C%22z%22', 'cats%2E', '100%25', '%2541', 'café']);
    for (const folder of folders) {
      // What Windows cannot hold: reserved characters, a device name (with any extension), a trailing dot or space.
      expect(folder).not.toMatch(/[<>:"/\\|?*\u0000-\u001f]|[. ]$|^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i);
    }
    expect((await unzipDataset(zip)).classes.map((c) => c.name).sort()).toEqual([...names].sort());
  });

  it('reads a folder name in either Unicode normalisation as its NFC class name', async () => {
    const [cat] = await photos('cats_vs_dogs/cats', 1);
    const [dog] = await photos('cats_vs_dogs/dogs', 1);
    const back = await unzipDataset(zipSync({ 'cafe\u0301/a.jpg': cat.bytes, 'dogs/b.jpg': dog.bytes }));
    expect(back.classes.map((c) => c.name)).toEqual(['café'.normalize('NFC'), 'dogs']);
  });

  it('decodes entry names without the UTF-8 flag as UTF-8 when they are, else as code page 437', async () => {
    const utf8 = (text: string) => new TextEncoder().encode(text);
    expect(zipEntryName(utf8('猫/a.jpg'), ZIP_UTF8_FLAG)).toBe('猫/a.jpg');
    expect(zipEntryName(utf8('café/a.jpg'), 0)).toBe('café/a.jpg');
    expect(zipEntryName(new Uint8Array([0x63, 0x61, 0x66, 0x82, 0x2f]), 0)).toBe('café/');
    // The whole table against Python's cp437 codec.
    const { stdout } = await promisify(execFile)('python3', ['-c', 'import sys; sys.stdout.buffer.write(bytes(range(256)).decode("cp437").encode("utf-8"))']);
    expect(cp437(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(stdout);
  });

  it('reads class folders named in UTF-8 or in CP437 without the UTF-8 flag, as Info-ZIP and Windows write them', async () => {
    const [cat] = await photos('cats_vs_dogs/cats', 1);
    // Entries named with ASCII stand-ins of the same length, then given the raw bytes of the names wanted.
    const raw: [string, number[]][] = [
      ['AAAAA/a.jpg', [...new TextEncoder().encode('café/a.jpg')]], // UTF-8, 5 bytes for "café"
      ['BBB/b.jpg', [...new TextEncoder().encode('猫/b.jpg')]],
      ['CCCCC/c.jpg', [0x6e, 0x61, 0x8b, 0x76, 0x65, ...new TextEncoder().encode('/c.jpg')]], // "naïve" in CP437
    ];
    const zip = zipSync(Object.fromEntries(raw.map(([standIn]) => [standIn, cat.bytes])));
    for (const [standIn, bytes] of raw) {
      const from = Buffer.from(standIn);
      for (let at = Buffer.from(zip).indexOf(from); at >= 0; at = Buffer.from(zip).indexOf(from, at + 1)) zip.set(bytes, at);
    }
    expect((await unzipDataset(zip)).classes.map((c) => c.name)).toEqual(['café', 'naïve', '猫']);
  });

  it('reads a zip made by Info-ZIP\'s zip -r of folders café and 猫', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graft-infozip-'));
    temp.push(dir);
    const [cat] = await photos('cats_vs_dogs/cats', 1);
    for (const folder of ['café', '猫']) {
      await mkdir(join(dir, 'data', folder), { recursive: true });
      await writeFile(join(dir, 'data', folder, 'a.jpg'), cat.bytes);
    }
    await promisify(execFile)('zip', ['-r', '-q', join(dir, 'classes.zip'), '.'], { cwd: join(dir, 'data') });
    const zip = new Uint8Array(await readFile(join(dir, 'classes.zip')));
    // Info-ZIP writes the names' UTF-8 bytes without the flag (what fflate reads as Latin-1).
    const files = Object.keys(unzipSync(zip)).filter((name) => !name.endsWith('/'));
    expect(files.sort()).toEqual(['café/a.jpg', '猫/a.jpg'].map((p) => Buffer.from(p).toString('latin1')).sort());
    expect((await unzipDataset(zip)).classes.map((c) => c.name)).toEqual(['café', '猫']);
  });

  it('says so when the file is not a zip or holds no class folder', async () => {
    await expect(unzipDataset(new TextEncoder().encode('plain text, not a zip'))).rejects.toThrow(ZipReadError);
    await expect(unzipDataset(zipSync({ 'a.jpg': new Uint8Array([1, 2, 3]) }))).rejects.toThrow(/no images inside class folders/);
  });
});
