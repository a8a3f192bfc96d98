/**
 * The trainer's page on a small phone (360 px wide), in headless Chromium against the real `wrangler dev`: on
 * first load, and after a short run with a photo classified (two of its classes with long names), the page does not
 * scroll sideways and every piece of text reads whole inside its panel (none sticks out, none is cut off; tables
 * and code may scroll, but not the workers table). Screenshots go to .local/screens/.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { openGraft } from '../support/browser';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { textOutsideItsBox } from '../support/layout';
import { classifyInTrainer, trainInPage } from '../support/publish-flow';

const SCREENS = '.local/screens';
const SMALL_PHONE = { width: 360, height: 780 };
const SMALLEST_PHONE = { width: 320, height: 640 };
const FOLDERS = ['daisy', 'dandelion', 'sunflowers'];
/** Class names as people give them: one long word, and words with brackets. */
const RENAMED = { dandelion: 'dandelion (Taraxacum officinale)', sunflowers: 'Helianthus_annuus_common_sunflower' };
const PER_CLASS = 10;

let graft: SeededGraft;
let chrome: Chromium;
let page: Page;

beforeAll(async () => {
  await mkdir(SCREENS, { recursive: true });
  graft = await seededGraft([{ id: 'flowers-narrow', source: 'flowers', perClass: Object.fromEntries(FOLDERS.map((c) => [c, PER_CLASS])), renamed: RENAMED }]);
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  await page.setViewportSize(SMALL_PHONE);
  await openGraft(page, `${graft.origin}/`);
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

const sideways = () => page.evaluate(() => document.documentElement.scrollWidth);
/** How many px of a box's content lie beyond its right edge, to be scrolled to. */
const hiddenSideways = (box: Locator) => box.evaluate((el) => el.scrollWidth - el.clientWidth);

it('on first load, every text reads whole inside its panel (the base model’s long id included)', async () => {
  await page.locator('#model-picker .choice-title').first().waitFor();
  expect(await textOutsideItsBox(page)).toEqual([]);
  expect(await sideways()).toBeLessThanOrEqual(SMALL_PHONE.width);
  await page.screenshot({ path: join(SCREENS, 'trainer-360-first-load.png'), fullPage: true });
});

it('after a run, with a photo classified, the results, the confusion matrix’s caption and the top classes read whole, long class names too, and at 320 px', async () => {
  await trainInPage(page, 'flowers-narrow', { head: 2, fineTune: 0 });
  const folder = join(SHARED, 'datasets/flowers/sunflowers');
  // A photo past the ones the run trained on.
  const photo = join(folder, (await readdir(folder)).sort()[PER_CLASS + 5]);
  await classifyInTrainer(page, photo);
  const shown = await page.locator('#classify .top-classes .class-name').allInnerTexts();
  expect(shown.sort()).toEqual(['daisy', ...Object.values(RENAMED)].sort());
  expect(await textOutsideItsBox(page)).toEqual([]);
  expect(await sideways()).toBeLessThanOrEqual(SMALL_PHONE.width);
  // The workers table reads whole, its State column included, without scrolling it sideways.
  expect(await hiddenSideways(page.getByRole('region', { name: 'Workers' }))).toBe(0);
  await page.screenshot({ path: join(SCREENS, 'trainer-360-after-run.png'), fullPage: true });
  // The narrowest phones too, where the saved run's title (dataset · base model id) is wider than its card.
  await page.setViewportSize(SMALLEST_PHONE);
  expect(await textOutsideItsBox(page)).toEqual([]);
  expect(await sideways()).toBeLessThanOrEqual(SMALLEST_PHONE.width);
  await page.setViewportSize(SMALL_PHONE);
});
