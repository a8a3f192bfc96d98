/**
 * Never stuck, nothing lost: a run in headless Chromium against the real `wrangler dev` when storage fails
 * under it. Shards the server answers with wrong bytes or a 500 (rewritten on the way by page.route()) are
 * retried, then only their images are left out, each with its reason, and training finishes on the rest.
 * A private window's small quota (Chromium's quota override through CDP) makes the run store its cut
 * activations as uint8, or train the head only, and say so before Start; a quota the page did not see coming
 * still ends in a trained classifier.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DatasetManifest } from '../../shared/records';
import { bytesNeeded } from '../../client/page/storage-plan';
import { formatBytes } from '../../client/page/text/format';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { openGraft, resultsDrawn } from '../support/browser';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';
import { inspectAllRecords } from '../support/raw-idb';

const DATASET = 'flowers-shards';
const PER_CLASS = 12;
/** 100 photos with 4 augmented views: 420 samples, whose cut activations (37 MB as float16) dwarf the rest. */
const QUOTA_DATASET = 'flowers-100';
const QUOTA_RUN = { headEpochs: 1, fineTuneEpochs: 1, augmentViews: 4 };
/** Tries of one shard download: the first and three retries. */
const SHARD_TRIES = 4;

let graft: SeededGraft;
let chrome: Chromium;
let manifest: DatasetManifest;

beforeAll(async () => {
  // About 100 KB shards: 24 photos make several, so one can fail while the others arrive.
  graft = await seededGraft(
    [
      { id: DATASET, source: 'flowers', perClass: { daisy: PER_CLASS, roses: PER_CLASS } },
      { id: QUOTA_DATASET, source: 'flowers', perClass: { daisy: 50, tulips: 50 } },
    ],
    { shardMb: 0.1 },
  );
  chrome = await launchChromium();
  manifest = (await (await fetch(`${graft.origin}/api/datasets/${DATASET}/manifest.json`)).json()) as DatasetManifest;
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

async function openPage(page: Page): Promise<void> {
  await openGraft(page, `${graft.origin}/`);
}

async function chooseDataset(page: Page, id: string): Promise<void> {
  await page.getByText(id).first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThan(0);
}

/** Sets the epochs and presses Start, as a visitor does; resolves when the run ends. */
async function train(page: Page, epochs: { head: number; fineTune: number }): Promise<string> {
  await page.getByLabel('Head epochs').fill(String(epochs.head));
  await page.getByLabel('Fine-tune epochs').fill(String(epochs.fineTune));
  return startAndWait(page);
}

async function startAndWait(page: Page): Promise<string> {
  const start = page.getByRole('button', { name: 'Start training' });
  await expect.poll(() => start.isEnabled(), { timeout: 60_000 }).toBe(true);
  await start.click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  const state = await page.evaluate(() => window.graft.session.state);
  if (state === 'done') await resultsDrawn(page);
  return state;
}

it('retries a corrupt and a failing shard, then trains on the other images and says which were left out and why', async () => {
  const page = await chrome.context.newPage();
  // The corrupt shard holds some of the sample grid's images (the first four of each class), the failing one none.
  const samples = ['daisy', 'roses'].flatMap((c) => manifest.images.filter((i) => i.class === c).slice(0, 4));
  const corrupt = samples[0].shard;
  const failing = manifest.shards.map((s) => s.file).find((file) => !samples.some((i) => i.shard === file))!;
  expect(failing).toBeDefined();
  const tries = new Map([[corrupt, 0], [failing, 0]]);
  await page.route(`**/shards/${corrupt}`, async (route) => {
    tries.set(corrupt, tries.get(corrupt)! + 1);
    const response = await route.fetch();
    const body = await response.body();
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await page.route(`**/shards/${failing}`, (route) => {
    tries.set(failing, tries.get(failing)! + 1);
    return route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'internal error' }) });
  });
  await openPage(page);

  await chooseDataset(page, DATASET);
  // The samples that arrived are shown; the others are reported by the run.
  const arrived = samples.filter((i) => i.shard !== corrupt).length;
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBe(arrived);
  expect(await train(page, { head: 2, fineTune: 0 })).toBe('done');
  expect(Object.fromEntries(tries)).toEqual({ [corrupt]: SHARD_TRIES, [failing]: SHARD_TRIES });

  const lost = manifest.images.filter((i) => i.shard === corrupt || i.shard === failing);
  const total = manifest.images.length;
  expect(lost.length).toBeGreaterThan(0);
  // The count is shown...
  await expect.poll(() => page.locator('#banner [role=status]').innerText()).toContain(`Training on ${total - lost.length} of ${total} images`);
  await expect.poll(() => page.locator('#extraction-progress .progress-headline').innerText()).toContain(`${lost.length} skipped`);
  // ...and each image left out, with its reason.
  await page.getByText(/files? skipped: show which and why/).click();
  const reasons = await page.locator('#extraction-progress .failed-files li').allInnerTexts();
  expect(reasons).toHaveLength(lost.length);
  for (const image of lost) {
    const line = reasons.find((r) => r.startsWith(image.file));
    expect(line, image.file).toBeDefined();
    expect(line).toMatch(image.shard === corrupt ? /corrupt/ : /500/);
  }
  // No farm worker was lost to it.
  const states = await page.locator('#extraction-progress .workers-table .state').allInnerTexts();
  expect(states.length).toBeGreaterThan(0);
  expect(states).not.toContain('stopped');
  // Every validation image that arrived is evaluated.
  expect(await page.locator('#results .gallery > li').count()).toBeGreaterThan(0);
  await page.close();
});

interface QuotaOutcome {
  state: string;
  /** What the page said before Start. */
  note: string;
  info: string;
  /** Epoch rows of the curves table (the untrained head's row included). */
  epochRows: number;
  /** Codec of each stored record that holds cut activations (two tensors). */
  cutCodecs: string[];
  /** The training box's text once the run has ended. */
  trainingBox: string;
}

/**
 * A run of QUOTA_RUN in a fresh profile whose origin may store only `free(needs)` more bytes (Chromium's quota
 * override, enforced on every IndexedDB write). Chromium's navigator.storage.estimate() keeps reporting the
 * profile's quota under an override, where a private window reports its own small one: with `noteBeforeStart`
 * the page's estimate() says what the override enforces, as a private window's would, and the run starts once
 * the page says what that pattern expects before Start.
 */
type Needs = { float16: number; uint8: number; headOnly: number };

async function runWithQuota(free: (needs: Needs) => number, noteBeforeStart: ((needs: Needs) => string) | null): Promise<QuotaOutcome> {
  const reported = noteBeforeStart !== null;
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const estimate = navigator.storage.estimate.bind(navigator.storage);
      navigator.storage.estimate = async () => {
        const quota = (window as unknown as { simulatedQuota?: number }).simulatedQuota;
        const real = await estimate();
        return quota === undefined ? real : { ...real, quota };
      };
    });
    await openPage(page);
    await chooseDataset(page, QUOTA_DATASET);
    const settings = { ...DEFAULT_SETTINGS, ...QUOTA_RUN, workers: 2, backend: 'auto', inputSize: 224, maxChunkSize: 16 } as const;
    // What the run stores, from the facts the page works with: its split, the base's shapes and weights.
    const facts = await page.evaluate(async (settings) => {
      const s = window.graft.session;
      const { split, record } = await s.plan(settings);
      const summary = await s.describe(settings);
      return {
        samples: split.train.length * (settings.augmentViews + 1) + split.validation.length + split.test.length,
        pooledSize: summary.layers[summary.layers.length - 1].outputShape.at(-1)!,
        cutSize: summary.cut.reduce((sum, c) => sum + c.shape.reduce((a, b) => a * b, 1), 0),
        modelBytes: record.bytes,
        fineTuneParams: summary.afterUnfreezing.trainable,
        headParams: summary.beforeUnfreezing.trainable,
      };
    }, settings);
    const footprint = { ...facts, cutSamples: facts.samples };
    const needs = { float16: bytesNeeded(footprint, 'float16'), uint8: bytesNeeded(footprint, 'uint8'), headOnly: bytesNeeded(footprint, 'none') };
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    const quota = usage + Math.round(free(needs));
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: graft.origin, quotaSize: quota });
    if (reported) await page.evaluate((quota) => ((window as unknown as { simulatedQuota: number }).simulatedQuota = quota), quota);
    console.log(`run needs ${JSON.stringify(needs)} B; quota ${quota} B (${usage} B used before)`);

    // Setting the epochs also refreshes what the page says before Start.
    await page.getByLabel('Head epochs').fill(String(QUOTA_RUN.headEpochs));
    await page.getByLabel('Fine-tune epochs').fill(String(QUOTA_RUN.fineTuneEpochs));
    await page.getByLabel('Augmented views').fill(String(QUOTA_RUN.augmentViews));
    await page.keyboard.press('Tab');
    const note = page.locator('#controls .start-note');
    if (noteBeforeStart) await expect.poll(() => note.innerText().catch(() => ''), { timeout: 30_000 }).toContain(noteBeforeStart(needs));
    const said = await note.innerText().catch(() => '');
    const state = await startAndWait(page);
    const cutCodecs = await inspectAllRecords(page, 'features', (records) => records.filter((r) => r.tensors.length === 2).map((r) => r.tensors[0].codec));
    console.log(`quota run ended ${state}: ${await page.locator('#banner').textContent()}`);
    return {
      state,
      note: said,
      info: await page.locator('#banner [role=status]').innerText(),
      epochRows: await page.locator('.curves-table tbody tr').count(),
      cutCodecs,
      trainingBox: await page.locator('#training-progress').innerText(),
    };
  } finally {
    await browser.close();
  }
}

it('stores cut activations as uint8 where float16 would not fit, says so before Start, and still fine-tunes', async () => {
  // Room for the uint8 run and a tenth of what float16 would add: a private window's share.
  const outcome = await runWithQuota(
    (needs) => needs.uint8 + (needs.float16 - needs.uint8) / 10,
    (needs) =>
      `needs about ${formatBytes(needs.uint8)} of browser storage (${formatBytes(needs.uint8 + (needs.float16 - needs.uint8) / 10)} free): ` +
      `cut activations are stored as uint8, half the size of float16, because float16 would need ${formatBytes(needs.float16)}.`,
  );
  expect(outcome.state).toBe('done');
  expect(outcome.info).toContain('stored as uint8');
  expect(outcome.cutCodecs.length).toBe(420);
  expect(new Set(outcome.cutCodecs)).toEqual(new Set(['uint8']));
  expect(outcome.epochRows).toBe(QUOTA_RUN.headEpochs + QUOTA_RUN.fineTuneEpochs + 1);
});

it('trains the head only where even uint8 cut activations would not fit, and says why', async () => {
  const outcome = await runWithQuota(
    (needs) => (needs.headOnly + needs.uint8) / 2,
    (needs) =>
      `needs about ${formatBytes(needs.headOnly)} of browser storage (${formatBytes((needs.headOnly + needs.uint8) / 2)} free): ` +
      `only the head trains, because fine-tuning needs its cut activations cached, ${formatBytes(needs.uint8)} even as uint8.`,
  );
  expect(outcome.state).toBe('done');
  expect(outcome.info).toContain('only the head trains');
  expect(outcome.cutCodecs).toEqual([]);
  expect(outcome.epochRows).toBe(QUOTA_RUN.headEpochs + 1);
  // The training box counts the epochs of the run that trained, not the form's (which still asks for fine-tuning).
  expect(outcome.trainingBox).toContain(`Epoch ${QUOTA_RUN.headEpochs} of ${QUOTA_RUN.headEpochs}`);
});

it('cuts the run down when storage runs short unannounced, instead of stopping with "cache full"', async () => {
  // The page believes it has room for float16; the browser refuses writes beyond the uint8 run's share.
  const outcome = await runWithQuota((needs) => needs.uint8 + (needs.float16 - needs.uint8) / 10, null);
  expect(outcome.state).toBe('done');
  expect(outcome.info).toMatch(/^Browser storage ran short during extraction\. This run needs about .*: (cut activations are stored as uint8|only the head trains)/);
  expect(outcome.epochRows).toBeGreaterThanOrEqual(QUOTA_RUN.headEpochs + 1);
});
