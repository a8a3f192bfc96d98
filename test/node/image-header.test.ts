/**
 * Image sizes read from file headers before decoding (client/engine/image-header.ts): real photos, every format
 * the farm decodes written by sharp, an EXIF-rotated JPEG, a real decompression bomb's header, and hostile files
 * made here byte by byte: GIF frames larger than their screen, AVIF files whose first `ispe` is a decoy.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerProblem, readImageHeader } from '../../client/engine/image-header';
import { craftedAvif, craftedGif, imageGrid, jpegWithStandaloneMarker, type HeifProperty } from '../support/crafted-images';
import { FLOWERS, sampleFiles, writePngBomb } from '../support/ingest-fixtures';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-header-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const header = (bytes: Buffer) => readImageHeader(new Uint8Array(bytes));

describe('readImageHeader', () => {
  it('reads the size of real photos as sharp decodes them', async () => {
    const picked = await sampleFiles(FLOWERS, ['daisy', 'roses', 'tulips'], 4);
    for (const [name, files] of Object.entries(picked)) {
      for (const file of files) {
        const bytes = await readFile(join(FLOWERS, name, file));
        const { width, height } = await sharp(bytes).metadata();
        expect([file, header(bytes)]).toEqual([file, { format: 'jpeg', width, height }]);
      }
    }
  });

  it('reads JPEG, PNG, GIF, WebP (lossy, lossless, extended) and AVIF, turning an EXIF-rotated JPEG', async () => {
    const photo = join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]);
    const image = () => sharp(photo).resize(301, 203, { fit: 'fill' });
    const cases: [string, Promise<Buffer>, object][] = [
      ['jpeg', image().jpeg().toBuffer(), { format: 'jpeg', width: 301, height: 203 }],
      ['jpeg, EXIF orientation 6', image().jpeg().withMetadata({ orientation: 6 }).toBuffer(), { format: 'jpeg', width: 203, height: 301 }],
      ['png', image().png().toBuffer(), { format: 'png', width: 301, height: 203 }],
      ['gif', image().gif().toBuffer(), { format: 'gif', width: 301, height: 203, largestFrame: { width: 301, height: 203 } }],
      ['webp', image().webp().toBuffer(), { format: 'webp', width: 301, height: 203 }],
      ['webp lossless', image().webp({ lossless: true }).toBuffer(), { format: 'webp', width: 301, height: 203 }],
      ['webp with alpha', image().ensureAlpha(0.5).webp().toBuffer(), { format: 'webp', width: 301, height: 203 }],
      ['avif', image().avif().toBuffer(), { format: 'avif', width: 301, height: 203 }],
    ];
    for (const [name, bytes, expected] of cases) expect([name, header(await bytes)]).toEqual([name, expected]);
  });

  it('reads a BMP, top-down or bottom-up', () => {
    for (const storedHeight of [3, -3]) {
      // BITMAPFILEHEADER + BITMAPINFOHEADER of a 2x3 24-bit image, rows padded to 8 bytes.
      const bmp = Buffer.alloc(54 + 3 * 8);
      bmp.write('BM', 0, 'ascii');
      bmp.writeUInt32LE(bmp.length, 2);
      bmp.writeUInt32LE(54, 10);
      bmp.writeUInt32LE(40, 14);
      bmp.writeInt32LE(2, 18);
      bmp.writeInt32LE(storedHeight, 22);
      bmp.writeUInt16LE(1, 26);
      bmp.writeUInt16LE(24, 28);
      expect(header(bmp)).toEqual({ format: 'bmp', width: 2, height: 3 });
    }
  });

  it('reads the 16000x16000 a decompression bomb declares, from its first bytes', async () => {
    const bomb = join(work, 'bomb.png');
    await writePngBomb(bomb);
    const bytes = await readFile(bomb);
    expect(header(bytes.subarray(0, 64))).toEqual({ format: 'png', width: 16000, height: 16000 });
  });

  it('reads a JPEG\'s frame as libjpeg does past a standalone marker (TEM) that hides a 1x1 decoy', async () => {
    const large = await sharp({ create: { width: 8000, height: 6400, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const crafted = jpegWithStandaloneMarker(large);
    expect(await sharp(crafted).metadata()).toMatchObject({ width: 8000, height: 6400 });
    expect(header(crafted)).toEqual({ format: 'jpeg', width: 8000, height: 6400 });
  });

  it('answers null for other formats and for headers cut short', async () => {
    const photo = await readFile(join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]));
    expect(header(await sharp(photo).tiff().toBuffer())).toBeNull();
    expect(header(photo.subarray(0, 30))).toBeNull();
    expect(header(Buffer.from('not an image at all'))).toBeNull();
  });
});

describe('GIF frames (image descriptors)', () => {
  it('a first frame of 8000x6400 on a 1x1 screen makes the picture 8000x6400, as decoders enlarge the screen to it', async () => {
    const gif = craftedGif(1, 1, [{ width: 8000, height: 6400 }]);
    // libvips (as Chromium) decodes the screen enlarged to the first frame: the size a decode allocates.
    expect(await sharp(gif).metadata()).toMatchObject({ width: 8000, height: 6400 });
    const read = header(gif)!;
    expect(read).toMatchObject({ format: 'gif', width: 8000, height: 6400 });
    expect(headerProblem(read)).toBe('8000x6400 is 51.2 megapixels, more than the 50.0 megapixels an image may have');
  });

  it('a first frame placed far off a 1x1 screen enlarges it to the frame\'s far corner', async () => {
    const gif = craftedGif(1, 1, [{ left: 3000, top: 2000, width: 1, height: 1 }]);
    expect(await sharp(gif).metadata()).toMatchObject({ width: 3001, height: 2001 });
    expect(header(gif)).toMatchObject({ format: 'gif', width: 3001, height: 2001 });
  });

  it('a later frame larger than the limit is refused by its own size, though the picture stays 10x10', () => {
    const read = header(craftedGif(10, 10, [{ width: 10, height: 10 }, { width: 8000, height: 6400 }]))!;
    expect(read).toMatchObject({ format: 'gif', width: 10, height: 10, largestFrame: { width: 8000, height: 6400 } });
    expect(headerProblem(read)).toBe('a frame of 8000x6400 is 51.2 megapixels, more than the 50.0 megapixels an image may have');
  });

  it('an animated GIF within the limit passes, its largest frame read', () => {
    const read = header(craftedGif(300, 200, [{ width: 300, height: 200 }, { left: 10, top: 10, width: 50, height: 40 }]))!;
    expect(read).toEqual({ format: 'gif', width: 300, height: 200, largestFrame: { width: 300, height: 200 } });
    expect(headerProblem(read)).toBeNull();
  });

  it('a GIF of more blocks than are walked is refused with the reason, never passed unchecked', () => {
    const gif = craftedGif(10, 10, [{ width: 10, height: 10 }]);
    // 150,000 one-byte comments between the screen and the frame: 750 kB, each comment two blocks.
    const comments = Buffer.alloc(5 * 150_000);
    for (let at = 0; at < comments.length; at += 5) comments.set([0x21, 0xfe, 1, 0x78, 0], at);
    const read = header(Buffer.concat([gif.subarray(0, -1), comments, craftedGif(10, 10, [{ width: 8000, height: 6400 }]).subarray(25)]))!;
    expect(headerProblem(read)).toMatch(/^a GIF of more than 262,144 blocks \(frames, extensions and data\) is not read: its frames could not all be checked$/);
  });

  it('a GIF cut short reports the frames it holds', () => {
    const gif = craftedGif(10, 10, [{ width: 10, height: 10 }, { width: 8000, height: 6400 }]);
    expect(header(gif.subarray(0, gif.length - 100))).toMatchObject({ width: 10, height: 10, largestFrame: { width: 8000, height: 6400 } });
  });
});

describe('AVIF: the primary item\'s size (pitm -> ipma -> its ispe)', () => {
  it('a 1x1 decoy ispe before the primary item\'s 8000x6400 is not the picture\'s size', () => {
    const avif = craftedAvif({
      primary: 2,
      items: [
        { id: 1, type: 'av01', properties: [1] },
        { id: 2, type: 'av01', properties: [2, 3] },
      ],
      properties: [{ ispe: [1, 1] }, { ispe: [8000, 6400] }, { other: 'pixi' }],
    });
    const read = header(avif)!;
    expect(read).toEqual({ format: 'avif', width: 8000, height: 6400 });
    expect(headerProblem(read)).toMatch(/^8000x6400 is 51.2 megapixels/);
  });

  it('a 64x64 thumbnail first does not squash the picture, and only the primary item\'s irot turns it', () => {
    const items = (primaryProperties: number[]) => [
      { id: 7, type: 'av01', properties: [1, 3] },
      { id: 9, type: 'av01', properties: primaryProperties },
    ];
    const properties: HeifProperty[] = [{ ispe: [64, 64] }, { ispe: [301, 203] }, { irot: 1 }];
    expect(header(craftedAvif({ primary: 9, items: items([2]), properties }))).toEqual({ format: 'avif', width: 301, height: 203 });
    expect(header(craftedAvif({ primary: 9, items: items([2, 3]), properties }))).toEqual({ format: 'avif', width: 203, height: 301 });
  });

  it('a grid is as large as its output (ImageGrid in idat), its tiles read as frames', () => {
    const tiles = [1, 2, 3, 4].map((id) => ({ id, type: 'av01', properties: [1] }));
    const grid = (output: [number, number], tile: [number, number]) =>
      craftedAvif({
        primary: 5,
        items: [...tiles, { id: 5, type: 'grid', properties: [], idat: imageGrid(2, 2, ...output) }],
        properties: [{ ispe: tile }],
        dimg: { from: 5, to: [1, 2, 3, 4] },
      });
    const read = header(grid([1000, 900], [512, 512]))!;
    expect(read).toEqual({ format: 'avif', width: 1000, height: 900, largestFrame: { width: 512, height: 512 } });
    expect(headerProblem(read)).toBeNull();
    // 32-bit output fields: 9000x6000 is over the limit whatever the tiles say.
    expect(headerProblem(header(grid([9000, 6000], [4500, 3000]))!)).toMatch(/^9000x6000 is 54.0 megapixels/);
    // Tiles a decoder decodes whole, far larger than the output they are cropped to.
    expect(headerProblem(header(grid([100, 100], [16000, 16000]))!)).toMatch(/^a frame of 16000x16000 is 256.0 megapixels/);
  });

  it('reads a real AVIF cut short in its media data (the boxes before it are whole)', async () => {
    const avif = await sharp({ create: { width: 301, height: 203, channels: 3, background: '#336699' } }).avif().toBuffer();
    expect(header(avif.subarray(0, avif.length - 10))).toEqual({ format: 'avif', width: 301, height: 203 });
  });

  it('an AVIF whose primary item has no size is refused with the reason', () => {
    const avif = craftedAvif({ primary: 2, items: [{ id: 1, type: 'av01', properties: [1] }, { id: 2, type: 'av01', properties: [] }], properties: [{ ispe: [1, 1] }] });
    expect(headerProblem(header(avif)!)).toBe('an AVIF whose main image declares no size (no ispe property) is not read');
  });
});
