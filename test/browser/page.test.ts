/**
 * The whole visit, as a user clicks it, in headless Chromium against the real `wrangler dev` seeded from
 * ../shared: pick a dataset while the page is still starting, start with the default settings, close the tab
 * mid-training, come back and resume, read the curves, the confusion matrix and the gallery, classify a photo.
 * No error banner and no page error may appear on the way. Screenshots go to .local/screens/.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { launchChromium, type Chromium } from '../support/browser';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';

const SCREENS = '.local/screens';
const CLASSES = ['daisy', 'roses', 'tulips'];
const PER_CLASS = 20;
const { headEpochs: HEAD_EPOCHS, fineTuneEpochs: FINE_TUNE_EPOCHS } = DEFAULT_SETTINGS;

let graft: SeededGraft;
let chrome: Chromium;

beforeAll(async () => {
  await mkdir(SCREENS, { recursive: true });
  graft = await seededGraft([{ id: 'flowers-small', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, PER_CLASS])) }]);
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

/** Opens the page without waiting for it to be ready, as a visitor who clicks at once. */
async function openPage(page: Page): Promise<void> {
  // Long tasks on the main thread and every error banner's text, from the first moment of the page.
  await page.addInitScript(() => {
    const tasks: { start: number; duration: number }[] = [];
    const banners: string[] = [];
    Object.assign(window, { longTasks: tasks, errorBanners: banners });
    new PerformanceObserver((list) => list.getEntries().forEach((e) => tasks.push({ start: e.startTime, duration: e.duration }))).observe({
      type: 'longtask',
      buffered: true,
    });
    new MutationObserver(() => {
      const text = document.querySelector('#banner [role=alert] .banner-text')?.textContent ?? '';
      if (text && banners.at(-1) !== text) banners.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(`${graft.origin}/`);
  await page.evaluate(() => void window.graft.ready.then(() => ((window as unknown as { readyAt: number }).readyAt = performance.now())));
}

/** Every error banner the page has shown since it opened. */
const errorBanners = (page: Page) => page.evaluate(() => (window as unknown as { errorBanners: string[] }).errorBanners);

/** Long tasks since the page was ready (the first render of the page is the browser's layout work, not ours). */
function longTasksSinceReady(page: Page): Promise<{ start: number; duration: number }[]> {
  return page.evaluate(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[]; readyAt: number };
    return w.longTasks.filter((t) => t.start >= w.readyAt);
  });
}

const epochsDone = (page: Page) => page.locator('.curves-table tbody tr').count();

it('trains, survives a closed tab, and shows curves, results and predictions', async () => {
  const apiRequests: string[] = [];
  chrome.context.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) apiRequests.push(request.url());
  });
  const page = await chrome.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await openPage(page);

  // The dataset is picked while the base model and the trainer's backend are still starting.
  await page.getByText('flowers-small').first().click();
  await page.evaluate(() => window.graft.ready);
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);

  // The default settings, as a visitor who changes nothing.
  await page.getByRole('button', { name: 'Start', exact: false }).first().click();
  // Close the tab once two epochs are checkpointed: everything in memory is lost, IndexedDB keeps the rest.
  await expect.poll(() => epochsDone(page), { timeout: 300_000, interval: 500 }).toBeGreaterThanOrEqual(3);
  expect(await errorBanners(page)).toEqual([]);
  // No long task while choosing, extracting and training (checked before the screenshot, which repaints the page).
  expect(await longTasksSinceReady(page)).toEqual([]);
  await page.screenshot({ path: join(SCREENS, 'e2e-2-training.png'), fullPage: true });
  await page.close();

  const back = await chrome.context.newPage();
  back.on('pageerror', (error) => errors.push(error.message));
  await openPage(back);
  const resume = back.getByRole('button', { name: /^Resume flowers-small/ });
  await resume.waitFor({ state: 'visible', timeout: 30_000 });
  await back.screenshot({ path: join(SCREENS, 'e2e-3-coming-back.png'), fullPage: true });
  // Long tasks count from here: the screenshot above repaints the whole page on the main thread.
  await back.evaluate(() => ((window as unknown as { readyAt: number }).readyAt = performance.now()));
  await resume.click();
  await back.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  expect(await back.evaluate(() => window.graft.session.state)).toBe('done');
  await back.screenshot({ path: join(SCREENS, 'e2e-4-done.png'), fullPage: true });

  // One row per epoch of both stages, plus the untrained head's row: the history from before the tab closed is kept.
  await expect.poll(() => epochsDone(back), { timeout: 10_000 }).toBe(HEAD_EPOCHS + FINE_TUNE_EPOCHS + 1);
  const gallery = back.locator('#results .gallery > li');
  await expect.poll(() => gallery.count(), { timeout: 10_000 }).toBeGreaterThan(0);

  // The confusion matrix counts every validation image once (20% of each class).
  const validationCount = CLASSES.length * PER_CLASS * 0.2;
  const cells = await back.locator('#results table tbody tr').evaluateAll((rows) =>
    rows.map((row) => Array.from(row.querySelectorAll('td:not(.total)'), (td) => Number(td.textContent))),
  );
  const matrix = cells.filter((row) => row.length === CLASSES.length);
  expect(matrix).toHaveLength(CLASSES.length);
  expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(validationCount);

  // The gallery shows each validation image with its true and predicted class.
  expect(await gallery.count()).toBe(validationCount);
  await gallery.first().locator('img').waitFor({ state: 'visible', timeout: 30_000 });
  const firstCaption = await gallery.first().innerText();
  expect(CLASSES.some((c) => firstCaption.includes(c))).toBe(true);

  // Classify a photo the classifier has not seen.
  const roses = join(SHARED, 'datasets/flowers/roses');
  const unseen = (await readdir(roses)).sort()[PER_CLASS + 5];
  await back.locator('#classify input[type=file]').setInputFiles(join(roses, unseen));
  const top = back.locator('#classify .class-name').first();
  await top.waitFor({ state: 'visible', timeout: 60_000 });
  expect(CLASSES).toContain((await top.innerText()).trim());
  await back.screenshot({ path: join(SCREENS, 'e2e-5-classified.png'), fullPage: true });

  // The main thread stayed responsive while the workers extracted and trained and the results were drawn.
  expect(await longTasksSinceReady(back)).toEqual([]);

  // A narrow screen: nothing sticks out sideways.
  await back.setViewportSize({ width: 360, height: 800 });
  await back.screenshot({ path: join(SCREENS, 'e2e-6-narrow.png'), fullPage: true });
  expect(await back.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

  // Export: the quantized model downloads as model.json + weights.bin, and its manifest says how to read them.
  const downloads: Download[] = [];
  back.on('download', (download) => downloads.push(download));
  await back.getByRole('button', { name: 'Download TF.js model (uint8)' }).click();
  await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(2);
  const files = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), await readFile((await d.path())!)] as const)));
  const modelJson = JSON.parse(files.get('model.json')!.toString('utf8'));
  expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
  expect(modelJson.weightsManifest[0].weights.some((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'uint8')).toBe(true);
  expect(modelJson.userDefinedMetadata.classifier.classes).toEqual(CLASSES);
  expect(files.get('weights.bin')!.byteLength).toBeGreaterThan(100_000);

  console.log(`API requests in the whole visit (two page loads): ${apiRequests.length}`);
  expect(await errorBanners(back)).toEqual([]);
  expect(errors).toEqual([]);
  await back.close();
});

it('trains on a folder the visitor picks, with the keyboard, without uploading it', async () => {
  // Photos of two classes the server does not have, in a folder of the visitor's own.
  const folder = await mkdtemp(join(tmpdir(), 'graft-my-photos-'));
  for (const [name, source] of [['cats', 'cats_vs_dogs/cats'], ['dogs', 'cats_vs_dogs/dogs']] as const) {
    await mkdir(join(folder, name));
    const files = (await readdir(join(SHARED, 'datasets', source))).sort().slice(0, 5);
    for (const file of files) await copyFile(join(SHARED, 'datasets', source, file), join(folder, name, file));
  }
  const uploads: string[] = [];
  chrome.context.on('request', (request) => {
    if (request.method() !== 'GET') uploads.push(`${request.method()} ${request.url()}`);
  });
  const page = await chrome.context.newPage();
  await openPage(page);
  // Coming back: the classifier trained in the first test classifies at once, without training again.
  const chooseImage = page.getByRole('button', { name: 'Choose an image…' });
  await expect.poll(() => chooseImage.isEnabled(), { timeout: 30_000 }).toBe(true);
  const daisies = join(SHARED, 'datasets/flowers/daisy');
  await page.locator('#classify input[type=file]').setInputFiles(join(daisies, (await readdir(daisies)).sort()[PER_CLASS + 3]));
  await page.locator('#classify .class-name').first().waitFor({ state: 'visible', timeout: 60_000 });
  expect(CLASSES).toContain((await page.locator('#classify .class-name').first().innerText()).trim());

  await page.locator('#dataset-picker input[type=file]').setInputFiles(folder);
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBe(8);
  const labels = await page.locator('#sample-grid').innerText();
  expect(labels).toContain('cats');
  expect(labels).toContain('dogs');
  await page.getByLabel('Head epochs').fill('2');
  await page.getByLabel('Fine-tune epochs').fill('0');
  const start = page.getByRole('button', { name: 'Start training' });
  await expect.poll(() => start.isEnabled(), { timeout: 60_000 }).toBe(true);
  await start.focus();
  expect(await start.evaluate((button) => button === document.activeElement)).toBe(true);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 300_000 });
  expect(await page.evaluate(() => window.graft.session.state)).toBe('done');
  await expect.poll(() => epochsDone(page), { timeout: 10_000 }).toBe(3);
  expect(uploads).toEqual([]);
  await page.screenshot({ path: join(SCREENS, 'e2e-7-own-folder.png'), fullPage: true });
  await page.close();
});
