/**
 * What the page stores of a small JPEG (client/page/jpeg-for-storage.ts), on files made here from a real photo:
 * a plain one byte for byte; one padded with 30 MB of APP2, or carrying a large EXIF, stripped to its image
 * (the same pixels, its orientation kept); its ICC profile kept; one cut mid-scan refused with the reason.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageHeader } from '../../client/engine/image-header';
import { jpegForStorage } from '../../client/page/jpeg-for-storage';
import { FLOWERS, sampleFiles } from '../support/ingest-fixtures';
import { jpegWithSegments, segment } from '../support/crafted-images';

let small: Buffer;
beforeAll(async () => {
  const daisy = join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]!);
  small = await sharp(await readFile(daisy)).resize(200, 150, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
});

const pixels = async (bytes: Uint8Array) => sharp(bytes).rotate().raw().toBuffer();
const stored = (bytes: Buffer) => Buffer.from(jpegForStorage(new Uint8Array(bytes)));

describe('a small JPEG as stored', () => {
  it('is kept byte for byte when it holds little besides its image', () => {
    expect(stored(small).equals(small)).toBe(true);
    const withComment = jpegWithSegments(small, [segment(0xfe, Buffer.from('made by a camera'))]);
    expect(stored(withComment).equals(withComment)).toBe(true);
  });

  it('loses 30 MB of APP2 padding and keeps the same pixels', async () => {
    const padding = Array.from({ length: 470 }, () => segment(0xe2, Buffer.alloc(65533, 0x41)));
    const padded = jpegWithSegments(small, padding);
    expect(padded.length).toBeGreaterThan(30_000_000);
    const kept = stored(padded);
    expect(kept.length).toBeLessThan(small.length + 100);
    expect((await pixels(kept)).equals(await pixels(small))).toBe(true);
  });

  it('keeps only the orientation of a large EXIF, so it still shows upright', async () => {
    const rotated = await sharp(small).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    // A camera's EXIF with a thumbnail: 40 KB of it after the orientation's IFD.
    const exifStart = rotated.indexOf(Buffer.from('Exif\0\0')) - 4;
    const exifLength = rotated.readUInt16BE(exifStart + 2);
    const exif = Buffer.concat([rotated.subarray(exifStart + 4, exifStart + 2 + exifLength), Buffer.alloc(40_000, 0x55)]);
    const large = Buffer.concat([rotated.subarray(0, exifStart), segment(0xe1, exif), rotated.subarray(exifStart + 2 + exifLength)]);
    expect(readImageHeader(large)).toEqual({ format: 'jpeg', width: 150, height: 200 });
    const kept = stored(large);
    expect(kept.length).toBeLessThan(rotated.length);
    expect(readImageHeader(kept)).toEqual({ format: 'jpeg', width: 150, height: 200 });
    expect((await pixels(kept)).equals(await pixels(rotated))).toBe(true);
  });

  it('keeps its ICC profile and drops the rest of a large metadata', async () => {
    const withProfile = await sharp(small).withIccProfile('p3').jpeg().toBuffer();
    const icc = (bytes: Buffer) => bytes.indexOf(Buffer.from('ICC_PROFILE\0'));
    expect(icc(withProfile)).toBeGreaterThan(0);
    const kept = stored(jpegWithSegments(withProfile, [segment(0xed, Buffer.alloc(60_000))]));
    expect(icc(kept)).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(withProfile.length + 100);
    expect((await sharp(kept).metadata()).icc?.length).toBe((await sharp(withProfile).metadata()).icc?.length);
  });

  it('refuses a JPEG cut mid-scan, or with bytes after its frame header that leave it no scan, saying why', () => {
    expect(() => stored(small.subarray(0, Math.floor(small.length * 0.6)))).toThrow(/cut short in its image data/);
    expect(() => stored(Buffer.concat([small.subarray(0, 2), Buffer.from('not a jpeg at all')]))).toThrow(/cut short/);
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    const garbled = Buffer.from(small).fill(0x20, sof + 2 + small.readUInt16BE(sof + 2), sof + 600);
    expect(() => stored(garbled)).toThrow('it has no scan (no image data after its frame header)');
  });
});
