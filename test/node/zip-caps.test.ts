/**
 * The page's zip import against zips no honest tool writes, made byte by byte (test/support/crafted-zips.ts) and
 * read from a Blob that counts what is read of it: every cap is checked on the central directory before any
 * entry's data is read (a zip64 record declaring 20 million entries, images that would unpack past the total cap),
 * an entry past the per-entry cap or not named as an image is never read, one that unpacks to more than it
 * declares is stopped there, one that is no image is read no further than its first bytes, and a name the zip holds
 * twice is listed as skipped with the first one kept. Each refusal names its cap.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZipDataset, readZipPlan, ZipLimitError, ZipReadError } from '../../client/page/dataset-zip';
import { formatBytes, formatCount } from '../../client/page/text/format';
import { MAX_ZIP_ENTRIES, MAX_ZIP_ENTRY_BYTES, MAX_ZIP_IMAGE_BYTES } from '../../client/page/zip-limits';
import { craftZip, deflated, deflatedZeros, stored, type CraftedEntry } from '../support/crafted-zips';
import { SHARED } from '../support/graft-fixture';

async function photos(count: number): Promise<Uint8Array[]> {
  const dir = join(SHARED, 'datasets/cats_vs_dogs/cats');
  const names = (await readdir(dir)).sort().slice(0, count);
  return Promise.all(names.map(async (name) => new Uint8Array(await readFile(join(dir, name)))));
}

/** A Blob of `zip` that records each range read of it. */
function watched(zip: Uint8Array): { blob: Blob; reads: [number, number][] } {
  const blob = new Blob([zip as Uint8Array<ArrayBuffer>]);
  const reads: [number, number][] = [];
  const view = { size: blob.size, slice: (start: number, end: number) => (reads.push([start, Math.min(end, blob.size)]), blob.slice(start, end)) };
  return { blob: view as unknown as Blob, reads };
}

/** Where each entry's local header and data lie in a zip craftZip wrote (they follow one another from 0). */
function dataRanges(entries: readonly CraftedEntry[]): [number, number][] {
  let at = 0;
  return entries.map((entry) => {
    const header = 30 + (typeof entry.name === 'string' ? new TextEncoder().encode(entry.name).length : entry.name.length);
    const range: [number, number] = [at + header, at + header + entry.data.length];
    at = range[1];
    return range;
  });
}

const bytesReadOf = (reads: [number, number][], [start, end]: [number, number]) =>
  reads.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, end) - Math.max(a, start)), 0);

describe('zip caps', () => {
  it('refuses a zip64 end record declaring 20 million entries from its end records alone', async () => {
    const [photo] = await photos(1);
    const entries = [stored('cats/a.jpg', photo)];
    const zip = craftZip(entries, { zip64Entries: 20_000_000 });
    const { blob, reads } = watched(zip);
    const refused = readZipPlan(blob);
    await expect(refused).rejects.toThrow(ZipLimitError);
    await expect(refused).rejects.toThrow(
      `this zip declares ${formatCount(20_000_000)} entries, and Graft reads at most ${formatCount(MAX_ZIP_ENTRIES)} from one zip. Split it into smaller zips.`,
    );
    // Two reads: the file's last 64 kB (where the end records are) and the zip64 record; not the directory.
    expect(reads).toHaveLength(2);
    expect(reads[1][1] - reads[1][0]).toBe(56);
  });

  it('refuses images that would unpack past the total cap before reading any of them', async () => {
    const zeros = deflatedZeros(MAX_ZIP_ENTRY_BYTES);
    const count = Math.floor(MAX_ZIP_IMAGE_BYTES / MAX_ZIP_ENTRY_BYTES) + 1;
    const entries = Array.from({ length: count }, (_, i) => ({ name: `bomb/${i}.jpg`, ...zeros }));
    const { blob, reads } = watched(craftZip(entries));
    const refused = readZipPlan(blob);
    await expect(refused).rejects.toThrow(
      `the images in this zip would unpack to ${formatBytes(count * MAX_ZIP_ENTRY_BYTES)}, and Graft unpacks at most ${formatBytes(MAX_ZIP_IMAGE_BYTES)} from one zip. Split it into smaller zips.`,
    );
    // Two reads: the file's last 64 kB (where the end record is) and the directory; no entry's data.
    expect(reads).toHaveLength(2);
    expect(bytesReadOf(reads, [0, dataRanges(entries).at(-1)![1] - 70_000])).toBe(0);
  });

  it('never reads an entry over the per-entry cap or not named as an image, and reads a fake image no further than its start', async () => {
    const [photo] = await photos(1);
    const zeros = deflatedZeros(MAX_ZIP_ENTRY_BYTES);
    const over = deflatedZeros(MAX_ZIP_ENTRY_BYTES + 1);
    const entries = [
      stored('cats/a.jpg', photo),
      { name: 'cats/notes.txt', ...zeros },
      { name: 'cats/huge.png', ...over },
      { name: 'cats/zeros.jpg', ...zeros },
      // Noise, which deflate cannot shrink: 4 MB to read, were it read on. A first byte of 0 is no signature.
      deflated('cats/noise.jpg', Uint8Array.from(randomBytes(4_000_000), (byte, i) => (i === 0 ? 0 : byte))),
    ];
    const { blob, reads } = watched(craftZip(entries));
    const read = await readZipDataset(blob);
    expect(read.classes.map((c) => [c.name, c.files.map((f) => f.name)])).toEqual([['cats', ['a.jpg']]]);
    expect(read.skipped).toEqual([
      { file: 'cats/huge.png', reason: `unpacks to ${formatBytes(MAX_ZIP_ENTRY_BYTES + 1)}: Graft unpacks at most ${formatBytes(MAX_ZIP_ENTRY_BYTES)} for one image` },
      { file: 'cats/noise.jpg', reason: 'not a JPEG, PNG, GIF, WebP, BMP or AVIF image' },
      { file: 'cats/notes.txt', reason: 'not a JPEG, PNG, WebP, GIF, BMP or AVIF image' },
      { file: 'cats/zeros.jpg', reason: 'not a JPEG, PNG, GIF, WebP, BMP or AVIF image' },
    ]);
    // Past the first read (the file's last 64 kB, where the end record is): what was read for the entries.
    const ranges = dataRanges(entries);
    const afterEnd = reads.slice(1);
    expect(bytesReadOf(afterEnd, ranges[1])).toBe(0);
    expect(bytesReadOf(afterEnd, ranges[2])).toBe(0);
    // The noise (4 MB deflated) is read one slice of 256 kB into.
    expect(entries[4].data.length).toBeGreaterThan(4_000_000);
    expect(bytesReadOf(afterEnd, ranges[4])).toBeLessThanOrEqual(256 * 1024);
  });

  it('stops an entry that unpacks to more than it declares, and keeps the others', async () => {
    const [a, b] = await photos(2);
    const lying = { ...deflatedZeros(MAX_ZIP_ENTRY_BYTES), size: 1000 };
    const read = await readZipDataset(new Blob([craftZip([deflated('cats/a.jpg', a), { name: 'cats/lie.jpg', ...lying }, deflated('cats/b.jpg', b)]) as Uint8Array<ArrayBuffer>]));
    expect(read.classes[0].files.map((f) => f.name)).toEqual(['a.jpg', 'b.jpg']);
    expect(Buffer.from(read.classes[0].files[1].bytes).equals(Buffer.from(b))).toBe(true);
    expect(read.skipped).toEqual([{ file: 'cats/lie.jpg', reason: 'unpacks to more than the 1.0 kB the zip declares for it (a damaged or crafted entry)' }]);
  });

  it('lists a name the zip holds twice as skipped, and keeps the first', async () => {
    const [a, b, c] = await photos(3);
    const read = await readZipDataset(new Blob([craftZip([stored('cats/a.jpg', a), stored('cats/a.jpg', b), stored('cats/c.jpg', c)]) as Uint8Array<ArrayBuffer>]));
    expect(read.classes[0].files.map((f) => f.name)).toEqual(['a.jpg', 'c.jpg']);
    expect(Buffer.from(read.classes[0].files[0].bytes).equals(Buffer.from(a))).toBe(true);
    expect(read.skipped).toEqual([{ file: 'cats/a.jpg', reason: 'a second entry of this name in the zip: the first one is kept' }]);
  });

  it('says a zip is damaged when its end record declares more entries than its directory holds', async () => {
    const [photo] = await photos(1);
    const zip = craftZip([stored('cats/a.jpg', photo)]);
    // The classic end record's two counts, raised to 3000.
    const view = new DataView(zip.buffer);
    view.setUint16(zip.length - 22 + 8, 3000, true);
    view.setUint16(zip.length - 22 + 10, 3000, true);
    await expect(readZipPlan(new Blob([zip as Uint8Array<ArrayBuffer>]))).rejects.toThrow(ZipReadError);
    await expect(readZipPlan(new Blob([zip as Uint8Array<ArrayBuffer>]))).rejects.toThrow(/central directory of 3,000 entries does not fit/);
  });
});
