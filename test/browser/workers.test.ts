/**
 * Workers that race, die or hang, in headless Chromium against the real `wrangler dev`: a dataset picked while
 * the trainer is still starting, a trainer that crashes mid-training, and a farm worker that keeps crashing.
 * Each case is what a visitor would see: a message in words and a page that carries on, never one stuck.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { graftReady, openGraft, pageWithLimits } from '../support/browser';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';

const CLASSES = ['daisy', 'roses', 'tulips'];
const SILENCE_LIMIT_MS = 30_000;
/** A start held back is given up after this, here: long enough for the next trainer's start on a loaded machine. */
const TRAINER_START_LIMIT_MS = 30_000;

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
    await graftReady(page);
    const views = page.locator('#augmentation-preview .augment-grid img, #augmentation-preview .augment-grid canvas');
    await expect.poll(() => views.count(), { timeout: 60_000 }).toBe(9);
    expect(await errorBanner(page)).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }
});

it('a trainer whose start never finishes is replaced after the time limit, and the page says so', async () => {
  // The product waits 90 s for a start; this page waits TRAINER_START_LIMIT_MS, with the same steps and words.
  const page = await pageWithLimits(chrome.context, { trainerStartMs: TRAINER_START_LIMIT_MS });
  // The first trainer's script never arrives (a stalled request), so that worker never starts.
  let stalled = false;
  await page.route(/train\.worker-[^/]*\.js$/, async (route) => {
    if (stalled) return route.continue();
    stalled = true;
  });
  await openGraft(page, `${graft.origin}/`);
  expect(stalled).toBe(true);
  expect(await infoBanner(page)).toBe(`The trainer was restarted after its start failed (it did not start within ${TRAINER_START_LIMIT_MS / 1000} s): it runs on WASM now.`);
  expect(await page.locator('#runtime-status').innerText()).toContain('Training: TF.js WASM · SIMD');
  expect(await errorBanner(page)).toBe('');
  await page.close();
});

it('a trainer that dies mid-training ends the stage with a message, and Resume finishes the run with every epoch kept', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
  // A limit this test can wait for; still far above the gap between two batches here.
  await page.evaluate((ms) => (window.graft.session.trainer.silenceLimitMs = ms), SILENCE_LIMIT_MS);
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

it('an extraction worker that keeps dying is given up at its third death, with the reason, and the other finishes', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
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
  // The one worker policy (supervised-worker.ts): every kind of worker is given up at its third death.
  expect(outcome.kills).toBe(3);
  expect(outcome.done).toBe(outcome.total);
  expect(outcome.workers[0].state).toBe('dead');
  expect(outcome.workers[0].stoppedBecause).toBe('extraction worker 0 stopped 3 times (last: terminated on request); given up');
  expect(outcome.workers[1].state).not.toBe('dead');
  // The visitor reads why in the extraction panel, and the workers table shows the run over: none working.
  await expect.poll(() => page.locator('#extraction-progress .notes').innerText()).toContain('Extraction worker 0 stopped 3 times');
  expect(await page.locator('#extraction-progress .workers-table tbody .state').allInnerTexts()).toEqual(['stopped', 'idle']);
  await page.close();
});

it('fine-tunes on two workers, one of them dying mid-epoch and replaced, and the run is the one a single worker makes', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
  const runs = await page.evaluate(async (SETTINGS) => {
    const s = window.graft.session;
    const { models } = await s.catalog();
    await s.chooseDataset('flowers-crash');
    await s.chooseModel(models[0], 'wasm');
    const info: string[] = [];
    s.on('info', (message) => info.push(message));
    const settings = { ...SETTINGS, headEpochs: 2, fineTuneEpochs: 2, batchSize: 16, backend: 'wasm', inputSize: 224, maxChunkSize: 8 };
    const runOn = async (workers: number, killAt: { epoch: number; batch: number } | null) => {
      let results: { history: unknown } | null = null;
      let killed: string | null = null;
      s.on('results', (r) => (results ??= r));
      s.on('train', (event) => {
        const p = event.kind === 'batch' ? event.progress : null;
        if (killAt && !killed && p?.stage === 'fine-tune' && p.epoch === killAt.epoch && p.batch === killAt.batch) {
          killed = 'asked';
          s.trainer.terminateFineTuneHelper(0).then(() => (killed = 'done'), (error: Error) => (killed = error.message));
        }
      });
      await s.start({ ...settings, workers } as never);
      return { state: s.state, history: results!.history as import('../../shared/training').History, killed };
    };
    const one = await runOn(1, null);
    const two = await runOn(2, { epoch: 2, batch: 1 });
    return { one, two, info };
  }, DEFAULT_SETTINGS);
  expect(runs.one.state).toBe('done');
  expect(runs.two.state).toBe('done');
  expect(runs.two.killed).toBe('done');
  // The replaced helper is named; the run never stopped.
  expect(runs.info.filter((m) => /fine-tuning helper/i.test(m))).toEqual([
    expect.stringMatching(/^Fine-tuning helper 1 was replaced \(fine-tuning helper 1 was terminated on request\)\.$/),
  ]);
  const [one, two] = [runs.one.history.epochs, runs.two.history.epochs];
  expect(two.map((e) => [e.epoch, e.stage])).toEqual(one.map((e) => [e.epoch, e.stage]));
  expect(two.slice(0, 2)).toEqual(one.slice(0, 2).map((e) => ({ ...e, seconds: expect.any(Number) })));
  expect(Math.abs(two[2].loss - one[2].loss) / one[2].loss).toBeLessThan(1e-3);
  for (let e = 2; e < one.length; e++) expect(Math.abs(two[e].valAccuracy - one[e].valAccuracy)).toBeLessThanOrEqual(0.005);
  await page.close();
});
