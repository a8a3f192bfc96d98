/**
 * Workers that race, die or hang, in headless Chromium against the real `wrangler dev`: a dataset picked while
 * the trainer is still starting, a trainer that crashes mid-training, and a farm worker that keeps crashing.
 * Each case is what a visitor would see: a message in words and a page that carries on, never one stuck.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { launchChromium, type Chromium } from '../support/browser';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';

const CLASSES = ['daisy', 'roses', 'tulips'];
const SILENCE_LIMIT_MS = 30_000;

let graft: SeededGraft;
let chrome: Chromium;

beforeAll(async () => {
  graft = await seededGraft([
    { id: 'flowers-race', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, 8])) },
    { id: 'flowers-crash', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, 20])) },
  ]);
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

const state = (page: Page) => page.evaluate(() => window.graft.session.state);
const epochsDone = (page: Page) => page.locator('.curves-table tbody tr').count();

/** The info line's text ('' when none is shown). */
const infoBanner = (page: Page) => page.locator('#banner [role=status]').innerText();

/** The error banner's text ('' when none is shown). */
const errorBanner = (page: Page) => page.locator('#banner [role=alert] .banner-text').allInnerTexts().then((t) => t.join(' '));

/** Page loads in the race test: whether the click lands while the backend starts depends on timing. */
const RACE_LOADS = 3;

it('a dataset picked while the trainer is still starting shows its preview and no error', async () => {
  for (let load = 0; load < RACE_LOADS; load++) {
    const page = await chrome.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${graft.origin}/`);
    // A visitor clicks as soon as the dataset is listed, without waiting for the base model and its backend.
    await page.getByText('flowers-race').first().click();
    await page.evaluate(() => window.graft.ready);
    const views = page.locator('#augmentation-preview .augment-grid img, #augmentation-preview .augment-grid canvas');
    await expect.poll(() => views.count(), { timeout: 60_000 }).toBe(9);
    expect(await errorBanner(page)).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }
});

it('a trainer whose start never finishes is replaced after the time limit, and the page says so', async () => {
  const page = await chrome.context.newPage();
  // The first trainer's script never arrives (a stalled request), so that worker never starts.
  let stalled = false;
  await page.route(/train\.worker-[^/]*\.js$/, async (route) => {
    if (stalled) return route.continue();
    stalled = true;
  });
  await page.goto(`${graft.origin}/`);
  await page.waitForFunction(() => window.graft.ready.then(() => true), null, { timeout: 180_000 });
  expect(stalled).toBe(true);
  expect(await infoBanner(page)).toBe('The trainer was restarted after its start failed (it did not start within 90 s): it runs on WASM now.');
  expect(await page.locator('#runtime-status').innerText()).toContain('Backend: WASM · SIMD');
  expect(await errorBanner(page)).toBe('');
  await page.close();
});

it('a trainer that dies mid-training ends the stage with a message, and Resume finishes the run with every epoch kept', async () => {
  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/`);
  await page.evaluate(() => window.graft.ready);
  // A limit this test can wait for; still far above the gap between two batches here.
  await page.evaluate((ms) => (window.graft.session.trainerSilenceLimitMs = ms), SILENCE_LIMIT_MS);
  await page.getByText('flowers-crash').first().click();
  await page.getByLabel('Head epochs').fill('3');
  await page.getByLabel('Fine-tune epochs').fill('2');
  const start = page.getByRole('button', { name: 'Start training' });
  await expect.poll(() => start.isEnabled(), { timeout: 60_000 }).toBe(true);
  await start.click();
  await expect.poll(() => epochsDone(page), { timeout: 300_000, interval: 250 }).toBeGreaterThanOrEqual(3);

  // The trainer worker ends without a word, as one the browser kills: no error event, no answer, ever.
  const trainer = page.workers().find((w) => /train\.worker/.test(w.url()));
  expect(trainer).toBeDefined();
  await trainer!.evaluate(() => self.close());

  // The stage ends after the limit, says why, and leaves the run to resume; it does not stay "training".
  await expect.poll(() => state(page), { timeout: SILENCE_LIMIT_MS + 60_000 }).toBe('paused');
  const message = await errorBanner(page);
  expect(message).toMatch(/^Training stopped: the trainer did not answer a call within 30 s and was stopped\./);
  expect(message).toMatch(/Resume continues the run from its checkpoint after epoch \d/);

  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  expect(await state(page)).toBe('done');
  // The untrained head's row and one per epoch of both stages: nothing trained before the crash is lost.
  await expect.poll(() => epochsDone(page), { timeout: 10_000 }).toBe(3 + 2 + 1);
  await page.close();
});

it('an extraction worker that keeps dying is given up after three respawns, with the reason, and the other finishes', async () => {
  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/`);
  await page.evaluate(() => window.graft.ready);
  const outcome = await page.evaluate(async (SETTINGS) => {
    const s = window.graft.session;
    const { models } = await s.catalog();
    await s.chooseDataset('flowers-crash');
    await s.chooseModel(models[0], 'wasm');
    // Augmented views make enough work for worker 1 to outlast worker 0's restarts.
    const plan = await s.plan({ ...SETTINGS, augmentViews: 4, workers: 2, backend: 'wasm', inputSize: 224, maxChunkSize: 2 } as never);
    let kills = 0;
    s.on('extract', (p) => {
      // Worker 0 dies each time it has started and taken work, as a worker that crashes on every batch.
      if (p.workers[0].report && p.workers[0].state === 'working') {
        kills++;
        s.farm!.terminateWorker(0);
      }
    });
    const progress = await s.extract(plan, new AbortController().signal);
    return { kills, done: progress!.scheduler.done, total: progress!.scheduler.total, workers: progress!.workers };
  }, DEFAULT_SETTINGS);
  expect(outcome.kills).toBe(4);
  expect(outcome.done).toBe(outcome.total);
  expect(outcome.workers[0].state).toBe('dead');
  expect(outcome.workers[0].stoppedBecause).toBe('extraction worker 0 stopped 4 times (last: terminated on request); given up');
  expect(outcome.workers[1].state).not.toBe('dead');
  // The visitor reads why in the extraction panel.
  await expect.poll(() => page.locator('#extraction-progress .notes').innerText()).toContain('Extraction worker 0 stopped 4 times');
  await page.close();
});
