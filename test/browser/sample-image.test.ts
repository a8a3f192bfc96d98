/**
 * client/page/sample-image.ts in headless Chromium: a small JPEG given to the page is decoded once before it is
 * kept. A plain one is kept byte for byte; one cut mid-scan, or whose bytes after the frame header were
 * overwritten, is refused with the reason; one padded with 30 MB of APP2 is kept without the padding. The files
 * are made here from a real photo (the padding inside the page, to keep 30 MB off the wire); sample-image.ts is
 * bundled with esbuild for the test.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageHeader } from '../../client/engine/image-header';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { within } from '../../tools/measure/within';
import { FLOWERS, REPO_ROOT, sampleFiles } from '../support/ingest-fixtures';

/** What the page keeps of a file: its bytes (base64) or the error. */
type Kept = { length: number; base64: string } | { error: string };

// localhost is a secure context: the sample's id is a crypto.subtle sha256.
const ORIGIN = 'http://localhost:5917';

let chrome: Chromium;
let page: Page;
let small: Buffer;

beforeAll(async () => {
  const bundle = await build({ entryPoints: [join(REPO_ROOT, 'client/page/sample-image.ts')], bundle: true, format: 'iife', globalName: 'graftSample', write: false });
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  await page.route(`${ORIGIN}/**`, (route) =>
    route.fulfill(
      route.request().url().endsWith('/sample-image.js')
        ? { body: bundle.outputFiles[0]!.text, contentType: 'text/javascript' }
        : { body: '<!doctype html><title>sample</title><script src="/sample-image.js"></script>', contentType: 'text/html' },
    ),
  );
  await page.goto(`${ORIGIN}/`);
  const daisy = join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]!);
  small = await sharp(await readFile(daisy)).resize(200, 150, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
});

afterAll(async () => {
  await chrome?.close();
});

/** The page's sampleFromFile on `bytes`, after `paddingSegments` APP2 segments of 65533 bytes put after SOI. */
function keep(bytes: Buffer, paddingSegments = 0): Promise<Kept> {
  return within(
    'sampleFromFile',
    120_000,
    page.evaluate(
      async ({ base64, paddingSegments }) => {
        const file = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const app2 = new Uint8Array(65537).fill(0x41);
        app2.set([0xff, 0xe2, 0xff, 0xff]);
        const parts = [file.subarray(0, 2), ...Array.from({ length: paddingSegments }, () => app2), file.subarray(2)];
        try {
          const sample = await (globalThis as any).graftSample.sampleFromFile(new Blob(parts));
          const kept = new Uint8Array(sample.bytes);
          let binary = '';
          for (let i = 0; i < Math.min(kept.length, 1_000_000); i++) binary += String.fromCharCode(kept[i]!);
          return { length: kept.length, base64: btoa(binary) };
        } catch (error) {
          return { error: `${(error as Error).name}: ${(error as Error).message}` };
        }
      },
      { base64: bytes.toString('base64'), paddingSegments },
    ),
  );
}

describe('a small JPEG given to the page', () => {
  it('is kept byte for byte when it decodes and holds little besides its image', async () => {
    expect(await keep(small)).toEqual({ length: small.length, base64: small.toString('base64') });
  });

  it('is kept without 30 MB of APP2 padding, its pixels the same', async () => {
    const kept = (await keep(small, 470)) as { length: number; base64: string };
    expect(kept.length).toBeLessThan(small.length + 100);
    const bytes = Buffer.from(kept.base64, 'base64');
    expect((await sharp(bytes).raw().toBuffer()).equals(await sharp(small).raw().toBuffer())).toBe(true);
    expect(readImageHeader(bytes)).toEqual({ format: 'jpeg', width: 200, height: 150 });
  });

  it('is refused with the reason when cut mid-scan', async () => {
    expect(await keep(small.subarray(0, Math.floor(small.length * 0.6)))).toEqual({
      error: 'SampleImageError: not a whole JPEG: cut short in its image data (no end-of-image marker)',
    });
  });

  it('is refused with the reason when the bytes after its frame header are garbage', async () => {
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    const garbled = Buffer.from(small);
    garbled.fill(0x20, sof + 2 + small.readUInt16BE(sof + 2), sof + 600);
    expect(await keep(garbled)).toEqual({ error: 'SampleImageError: not a whole JPEG: it has no scan (no image data after its frame header)' });
  });

  it('is refused with the reason when it does not decode (a Huffman table whose counts are garbage)', async () => {
    const dht = small.indexOf(Buffer.from([0xff, 0xc4]));
    const corrupt = Buffer.from(small);
    corrupt.fill(0xfe, dht + 5, dht + 21); // the 16 code counts of the first table
    expect(await keep(corrupt)).toEqual({ error: 'SampleImageError: the image could not be decoded (a corrupt JPEG)' });
  });
});
