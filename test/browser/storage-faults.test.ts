/**
 * Never stuck, nothing lost: a run in headless Chromium against the real `wrangler dev` when storage fails
 * under it. Shards the server answers with wrong bytes or a 500 (rewritten on the way by page.route()) are
 * retried, then only their images are left out, each with its reason, and training finishes on the rest.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DatasetManifest } from '../../shared/records';
import { launchChromium, type Chromium } from '../support/browser';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';

const DATASET = 'flowers-shards';
const PER_CLASS = 12;
/** Tries of one shard download: the first and three retries. */
const SHARD_TRIES = 4;

let graft: SeededGraft;
let chrome: Chromium;
let manifest: DatasetManifest;

beforeAll(async () => {
  // About 100 KB shards: 24 photos make several, so one can fail while the others arrive.
  graft = await seededGraft([{ id: DATASET, source: 'flowers', perClass: { daisy: PER_CLASS, roses: PER_CLASS } }], { shardMb: 0.1 });
  chrome = await launchChromium();
  manifest = (await (await fetch(`${graft.origin}/api/datasets/${DATASET}/manifest.json`)).json()) as DatasetManifest;
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

async function openPage(page: Page): Promise<void> {
  await page.goto(`${graft.origin}/`);
  await page.evaluate(() => window.graft.ready);
}

/** Picks the dataset, sets the epochs and presses Start, as a visitor does; resolves when the run ends. */
async function train(page: Page, epochs: { head: number; fineTune: number }): Promise<string> {
  await page.getByText(DATASET).first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThan(0);
  await page.getByLabel('Head epochs').fill(String(epochs.head));
  await page.getByLabel('Fine-tune epochs').fill(String(epochs.fineTune));
  const start = page.getByRole('button', { name: 'Start training' });
  await expect.poll(() => start.isEnabled(), { timeout: 60_000 }).toBe(true);
  await start.click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  return page.evaluate(() => window.graft.session.state);
}

it('retries a corrupt and a failing shard, then trains on the other images and says which were left out and why', async () => {
  const page = await chrome.context.newPage();
  // Two shards that hold none of the sample grid's images (the first four of each class), so choosing the
  // dataset works as usual and the failures show up in the run.
  const samples = new Set(['daisy', 'roses'].flatMap((c) => manifest.images.filter((i) => i.class === c).slice(0, 4).map((i) => i.shard)));
  const [corrupt, failing] = manifest.shards.map((s) => s.file).filter((file) => !samples.has(file));
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
  const evaluated = await page.locator('#results .gallery > li').count();
  expect(evaluated).toBeGreaterThan(0);
  await page.close();
});
