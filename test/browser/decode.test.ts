/**
 * client/engine/decode.ts in headless Chromium, inside a Web Worker as the farm runs it: a decompression bomb is
 * refused by its header before anything is decoded (a PNG, a GIF whose 1x1 screen hides an 8000x6400 frame), a
 * decode that meets more pixels than its header declared stops before they are read, a large EXIF-rotated photo
 * comes out upright at the size the farm needs, and a real photo is decoded as it is. decode.ts is bundled with
 * esbuild for the test.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { craftedGif } from '../support/crafted-images';
import { FLOWERS, REPO_ROOT, sampleFiles, writePngBomb } from '../support/ingest-fixtures';

/** What the worker answers for one file: the decoded size and mean colour of its top half, or the error. */
type Decoded = { width: number; height: number; topMean: number[] } | { error: string };

const ORIGIN = 'http://graft-decode.test';

let chrome: Chromium;
let page: Page;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-decode-'));
  const bundle = await build({
    entryPoints: [join(REPO_ROOT, 'client/engine/decode.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'graftDecode',
    write: false,
  });
  const worker = `${bundle.outputFiles[0]!.text}
self.onmessage = async ({ data }) => {
  try {
    const blob = new Blob([data.bytes]);
    const { data: rgba, width, height } = data.declared
      ? await graftDecode.decodeDeclared(blob, data.declared, data.inputSize)
      : await graftDecode.decodeImage(blob, data.inputSize);
    const top = Math.floor(height / 2) * width;
    const sums = [0, 0, 0];
    for (let p = 0; p < top; p++) for (let c = 0; c < 3; c++) sums[c] += rgba[p * 4 + c];
    postMessage({ width, height, topMean: sums.map((sum) => sum / top) });
  } catch (error) {
    postMessage({ error: error.name + ': ' + error.message });
  }
};`;
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  await page.route(`${ORIGIN}/**`, (route) =>
    route.fulfill(
      route.request().url().endsWith('/decode-worker.js')
        ? { body: worker, contentType: 'text/javascript' }
        : { body: '<!doctype html><title>decode</title>', contentType: 'text/html' },
    ),
  );
  await page.goto(`${ORIGIN}/`);
});

afterAll(async () => {
  await chrome?.close();
  await rm(work, { recursive: true, force: true });
});

/** `declared`: decode as if the file's header had declared that size (a header that lied). */
async function decodeInWorker(bytes: Buffer, inputSize = 224, declared?: { width: number; height: number }): Promise<Decoded> {
  return page.evaluate(
    ({ base64, inputSize, declared }) =>
      new Promise<Decoded>((resolve) => {
        const worker = new Worker('/decode-worker.js');
        worker.onmessage = ({ data }) => {
          worker.terminate();
          resolve(data);
        };
        worker.onerror = (event) => resolve({ error: `worker error: ${event.message}` });
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        worker.postMessage({ bytes, inputSize, declared }, [bytes.buffer]);
      }),
    { base64: bytes.toString('base64'), inputSize, declared },
  );
}

describe('decodeImage in a worker', () => {
  it('refuses a 16000x16000 PNG bomb by its header, without decoding it', async () => {
    const bomb = join(work, 'bomb.png');
    await writePngBomb(bomb);
    expect(await decodeInWorker(await readFile(bomb))).toEqual({
      error: 'UndecodableImageError: 16000x16000 is 256.0 megapixels, more than the 50.0 megapixels an image may have: not decoded',
    });
  });

  it('refuses a GIF whose 1x1 screen hides an 8000x6400 frame, by its header', async () => {
    expect(await decodeInWorker(craftedGif(1, 1, [{ width: 8000, height: 6400 }]))).toEqual({
      error: 'UndecodableImageError: 8000x6400 is 51.2 megapixels, more than the 50.0 megapixels an image may have: not decoded',
    });
  });

  it('stops a decode that meets more pixels than its header declared before reading them', async () => {
    const large = await sharp({ create: { width: 8000, height: 6400, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    expect(await decodeInWorker(large, 224, { width: 100, height: 80 })).toEqual({
      error: 'UndecodableImageError: 8000x6400 is 51.2 megapixels, more than the 50.0 megapixels an image may have, once decoded (its header declared 100x80): not read',
    });
  });

  it('decodes a 48-megapixel photo stored sideways (EXIF orientation 6) upright, at a shorter side of 4 x 224', async () => {
    const daisy = join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]);
    const large = await sharp(daisy).resize(8000, 6000, { fit: 'fill' }).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer();
    const decoded = await decodeInWorker(large);
    expect(decoded).toMatchObject({ width: 896, height: 1195 });
    // Turned the right way: its top half has the colours of the top half of the picture sharp turns upright.
    const { data, info } = await sharp(large).rotate().resize(896, 1195, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const top = Math.floor(info.height / 2) * info.width;
    const topMean = [0, 1, 2].map((c) => {
      let sum = 0;
      for (let p = 0; p < top; p++) sum += data[p * info.channels + c]!;
      return sum / top;
    });
    (decoded as { topMean: number[] }).topMean.forEach((value, c) => expect(Math.abs(value - topMean[c]!)).toBeLessThan(4));
  });

  it('decodes a real photo at its own size', async () => {
    const rose = await readFile(join(FLOWERS, 'roses', (await sampleFiles(FLOWERS, ['roses'], 1)).roses[0]));
    const { width, height } = await sharp(rose).metadata();
    expect(await decodeInWorker(rose)).toMatchObject({ width, height });
  });
});
