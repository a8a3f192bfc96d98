/**
 * The Android export as a visitor does it, in headless Chromium against the real `wrangler dev`: train on a few
 * flowers, build the int8 TFLite file on the page (checked there in LiteRT.js before it is offered), download the
 * zip, and run the downloaded model.tflite in LiteRT.js on a photo it did not train on: it names the class the
 * page's own TF.js model names, from uint8 pixels, with one probability per line of labels.txt.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { strFromU8, unzipSync } from 'fflate';
import type { Download } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resizeToSquare } from '../../client/engine/preprocess';
import { openLiteRtBrowser, type LiteRtBrowser } from '../../tools/measure/litert-browser';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { openGraft } from '../support/browser';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { decodeFile } from '../../tools/measure/decode-file';

const CLASSES = ['daisy', 'dandelion', 'sunflowers'];
const PER_CLASS = 30;

let graft: SeededGraft;
let chrome: Chromium;
let runtime: LiteRtBrowser;

beforeAll(async () => {
  await tf.setBackend('cpu');
  graft = await seededGraft([{ id: 'flowers-tflite', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, PER_CLASS])) }]);
  [chrome, runtime] = await Promise.all([launchChromium(), openLiteRtBrowser()]);
});

afterAll(async () => {
  await runtime?.close();
  await chrome?.close();
  await graft?.close();
});

it('downloads a checked int8 TFLite zip after training, and the file classifies an unseen photo', async () => {
  const page = await chrome.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await openGraft(page, `${graft.origin}/`);
  await page.getByText('flowers-tflite').first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);
  await page.getByLabel('Head epochs').fill('4');
  await page.getByLabel('Fine-tune epochs').fill('0');
  const start = page.getByRole('button', { name: 'Start training' });
  await expect.poll(() => start.isEnabled(), { timeout: 60_000 }).toBe(true);
  await start.click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  expect(await page.evaluate(() => window.graft.session.state)).toBe('done');

  await page.getByRole('button', { name: 'Build and check TFLite int8 for Android' }).click();
  const link = page.locator('#export-tflite a[data-kind=int8]');
  const status = page.locator('#export-tflite [role=status][data-kind=int8]');
  const shownError = async () => (await page.locator('.banner-error').textContent())?.trim() ?? '';
  // Until the file is offered, or the page says why not.
  await expect
    .poll(async () => (await link.isVisible()) || /not offered/.test(await status.innerText()) || (await shownError()) !== '', { timeout: 300_000, interval: 500 })
    .toBe(true);
  expect({ status: await status.innerText(), error: await shownError(), errors }).toMatchObject({ error: '', errors: [] });
  expect(await link.isVisible()).toBe(true);
  // Beside the download: size, the file's own accuracy, agreement with TF.js, time per image.
  expect(await status.innerText()).toMatch(/^\d+(\.\d)? kB · accuracy \d+\.\d% · agrees with TF\.js \d+\.\d% · \d+\.\d ms\/image$/);

  // The figures and the Kotlin/Python code fit a narrow screen.
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await page.setViewportSize({ width: 1280, height: 900 });

  const download: Promise<Download> = page.waitForEvent('download');
  await link.click();
  const zip = unzipSync(new Uint8Array(await readFile((await (await download).path())!)));
  expect(Object.keys(zip).sort()).toEqual(['README.md', 'labels.txt', 'model.tflite']);
  const labels = strFromU8(zip['labels.txt']).trimEnd().split('\n');
  expect(labels).toEqual(CLASSES);
  const readme = strFromU8(zip['README.md']);
  expect(readme).toContain('uint8 [1, 224, 224, 3]');
  expect(readme).toContain('ByteBuffer.allocateDirect(224 * 224 * 3 * 1)');

  // A photo it did not train on, classified by the page's TF.js model ...
  const dir = join(SHARED, 'datasets/flowers/sunflowers');
  const unseen = join(dir, (await readdir(dir)).sort()[PER_CLASS + 7]);
  await page.locator('#classify input[type=file]').setInputFiles(unseen);
  const top = page.locator('#classify .class-name').first();
  await top.waitFor({ state: 'visible', timeout: 60_000 });
  const tfjsTop1 = (await top.innerText()).trim();

  // ... and by the downloaded file, from its uint8 pixels, in LiteRT.js.
  const image = resizeToSquare(await decodeFile(unseen), 224);
  const bytes = Uint8Array.from(tf.tidy(() => tf.round(image)).dataSync());
  image.dispose();
  const run = await runtime.run(zip['model.tflite'], [bytes]);
  expect(run.input).toEqual({ name: 'image', dtype: 'uint8', shape: [1, 224, 224, 3] });
  expect(run.output.shape).toEqual([1, labels.length]);
  const probabilities = Array.from(run.outputs[0]);
  expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
  expect(labels[probabilities.indexOf(Math.max(...probabilities))]).toBe(tfjsTop1);
  expect(errors).toEqual([]);
  await page.close();
});
