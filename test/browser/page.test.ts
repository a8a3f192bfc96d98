/**
 * The whole visit, as a user clicks it, in headless Chromium against the real `wrangler dev` seeded from
 * ../shared: pick a dataset while the page is still starting, start with the default settings, close the tab
 * mid-training, come back and resume, read the curves, the confusion matrix and the gallery, classify a photo
 * (no error banner and no page error may appear on the way); pause and resume in both stages, come back to a
 * finished run, and a learning rate far too high; what augmented views cost, said before a run starts.
 * Screenshots go to .local/screens/.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { History } from '../../shared/training';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { graftReady } from '../support/browser';
import { busyForLong, traceMainThread } from '../../tools/measure/main-thread';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { countEachStore, deleteAllRecords } from '../support/raw-idb';

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
  // Every error banner's text, from the first moment of the page.
  await page.addInitScript(() => {
    const banners: string[] = [];
    // Where the dataset picker's first choice sits on screen, each time it moves, until the page is ready.
    const pickerTops: number[] = [];
    Object.assign(window, { errorBanners: banners, pickerTops });
    const trackPicker = () => {
      const top = document.querySelector('#dataset-picker input[type=radio]')?.getBoundingClientRect().top;
      if (top !== undefined && pickerTops.at(-1) !== top) pickerTops.push(top);
      if (!(window as unknown as { isReady?: boolean }).isReady) requestAnimationFrame(trackPicker);
    };
    requestAnimationFrame(trackPicker);
    new MutationObserver(() => {
      const text = document.querySelector('#banner [role=alert] .banner-text')?.textContent ?? '';
      if (text && banners.at(-1) !== text) banners.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(`${graft.origin}/`);
  await page.evaluate(() => void window.graft.ready.then(() => ((window as unknown as { isReady: boolean }).isReady = true)));
}

/** Every error banner the page has shown since it opened. */
const errorBanners = (page: Page) => page.evaluate(() => (window as unknown as { errorBanners: string[] }).errorBanners);


const epochsDone = (page: Page) => page.locator('.curves-table tbody tr').count();

it('says what augmented views cost before a run starts, and updates it as the count is typed', async () => {
  const page = await chrome.context.newPage();
  await openPage(page);
  const views = page.getByLabel('Augmented views', { exact: true });
  const cost = page.locator('.field-augmentViews .field-cost');
  // One view by default, one view of each photo per epoch. 80% of the photos train by default.
  await expect.poll(() => cost.textContent()).toBe('1 view: about 1.8x the extraction time of none; epochs take as long as without.');
  // Typing is enough: the line follows the field before it is committed.
  await views.fill('4');
  await expect.poll(() => cost.textContent()).toBe('4 views: about 4.2x the extraction time of none; epochs take as long as without.');
  await page.getByLabel('Each epoch trains on', { exact: true }).selectOption('all');
  await expect.poll(() => cost.textContent()).toBe('4 views: about 4.2x the extraction time of none, and 5x the time of each fine-tune epoch.');
  await page.getByLabel('Fine-tune epochs', { exact: true }).fill('0');
  await expect.poll(() => cost.textContent()).toBe('4 views: about 4.2x the extraction time of none.');
  await views.fill('0');
  await expect.poll(() => cost.textContent()).toBe('No augmented views: each photo goes through the base once.');
  // A screen reader reads the cost with the field.
  expect((await views.getAttribute('aria-describedby'))?.split(' ')).toContain(await cost.getAttribute('id'));
  await page.close();
});

it('offers stage 2’s schedule and label smoothing under More settings, and says what is wrong with a smoothing', async () => {
  const page = await chrome.context.newPage();
  await openPage(page);
  await page.locator('.more-settings summary').click();
  expect(await page.getByLabel('Fine-tune schedule', { exact: true }).inputValue()).toBe('constant');
  const smoothing = page.getByLabel('Label smoothing', { exact: true });
  expect(await smoothing.inputValue()).toBe('0');
  await smoothing.fill('0.9');
  await smoothing.press('Tab');
  await expect.poll(() => page.locator('.field-labelSmoothing .field-error').textContent()).toBe('Enter a number from 0 to 0.5.');
  expect(await smoothing.getAttribute('aria-invalid')).toBe('true');
  await page.close();
});

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
  await graftReady(page);
  // Main-thread tasks count from here (the first render of the page is the browser's layout work, not ours).
  const choosingAndTraining = await traceMainThread(page);
  // And it stayed where it was meanwhile: nothing above it grew under the visitor's pointer.
  expect(await page.evaluate(() => (window as unknown as { pickerTops: number[] }).pickerTops)).toHaveLength(1);
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);

  // The default settings, as a visitor who changes nothing.
  await page.getByRole('button', { name: 'Start', exact: false }).first().click();
  // Close the tab once two epochs are checkpointed: everything in memory is lost, IndexedDB keeps the rest.
  await expect.poll(() => epochsDone(page), { timeout: 300_000, interval: 500 }).toBeGreaterThanOrEqual(3);
  expect(await errorBanners(page)).toEqual([]);
  // No long task while choosing, extracting and training (checked before the screenshot, which repaints the page).
  expect(busyForLong(await choosingAndTraining.stop())).toEqual([]);
  await page.screenshot({ path: join(SCREENS, 'e2e-2-training.png'), fullPage: true });
  await page.close();

  const back = await chrome.context.newPage();
  back.on('pageerror', (error) => errors.push(error.message));
  await openPage(back);
  const resume = back.getByRole('button', { name: /^Resume flowers-small/ });
  await resume.waitFor({ state: 'visible', timeout: 30_000 });
  await back.screenshot({ path: join(SCREENS, 'e2e-3-coming-back.png'), fullPage: true });
  // Tasks count from here: the screenshot above repaints the whole page on the main thread.
  const resuming = await traceMainThread(back);
  const beforeResume = apiRequests.length;
  await resume.click();
  await back.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  expect(await back.evaluate(() => window.graft.session.state)).toBe('done');
  // Resume uses the catalog the page loaded at its start: it does not ask the server for it again.
  const catalogAgain = apiRequests.slice(beforeResume).filter((url) => ['/api/datasets', '/api/models'].includes(new URL(url).pathname));
  expect(catalogAgain).toEqual([]);

  // One row per epoch of both stages, plus the untrained head's row: the history from before the tab closed is kept.
  await expect.poll(() => epochsDone(back), { timeout: 10_000 }).toBe(HEAD_EPOCHS + FINE_TUNE_EPOCHS + 1);
  const gallery = back.locator('#results .gallery > li');
  await expect.poll(() => gallery.count(), { timeout: 10_000 }).toBeGreaterThan(0);
  // The main thread stayed responsive while the workers trained and the results were drawn. Measured before the
  // full-page screenshot, whose repaint of the whole (tall) page is the test's own main-thread work.
  const whileTraining = await resuming.stop();
  await back.screenshot({ path: join(SCREENS, 'e2e-4-done.png'), fullPage: true });
  const reading = await traceMainThread(back);

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
  // And while the results were read and a photo classified.
  const whileClassifying = await reading.stop();
  await back.screenshot({ path: join(SCREENS, 'e2e-5-classified.png'), fullPage: true });
  expect(busyForLong(whileTraining)).toEqual([]);
  expect(busyForLong(whileClassifying)).toEqual([]);

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

  // What the README claims: the whole visit, a closed tab and a resume included, costs the Worker 12 requests.
  const apiPaths = apiRequests.map((url) => new URL(url).pathname);
  console.log(`API requests in the whole visit (two page loads): ${apiPaths.length}\n${apiPaths.join('\n')}`);
  expect(apiPaths).toHaveLength(12);
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

describe('never stuck, nothing lost', () => {
  /** Small batches, so each stage has enough of them to pause in. */
  const PAUSE_HEAD_EPOCHS = 6;
  const PAUSE_FINE_TUNE_EPOCHS = 2;
  const TOTAL = PAUSE_HEAD_EPOCHS + PAUSE_FINE_TUNE_EPOCHS;
  const state = (page: Page) => page.evaluate(() => window.graft.session.state);
  /** The line below the run's controls that says what Start will do (the storage the run needs). */
  const startNote = (page: Page) => page.locator('#controls .start-note').innerText();
  const waitUntilNot = (page: Page, busy: string[], timeout = 600_000) =>
    page.waitForFunction((busy) => !busy.includes(window.graft.session.state), busy, { timeout });

  async function chooseFlowers(page: Page, settings: Record<string, string>): Promise<void> {
    await page.locator('#dataset-picker').getByText('flowers-small').first().click();
    await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);
    for (const [label, value] of Object.entries(settings)) await page.getByLabel(label, { exact: true }).fill(value);
  }

  it('pauses and resumes in stage 1 and in stage 2 from the page, and ends as the uninterrupted run', async () => {
    const page = await chrome.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await openPage(page);
    await chooseFlowers(page, { 'Head epochs': String(PAUSE_HEAD_EPOCHS), 'Fine-tune epochs': String(PAUSE_FINE_TUNE_EPOCHS), 'Batch size': '8' });
    await page.evaluate(() => {
      const w = window as unknown as { histories: History[] };
      w.histories = [];
      window.graft.session.on('results', ({ history }) => w.histories.push(history));
    });

    // The uninterrupted run.
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitUntilNot(page, ['idle', 'extracting', 'training']);
    expect(await state(page)).toBe('done');
    // The training box shows the last epoch's figures once it has ended, as the curves do.
    const box = await page.locator('#training-progress').innerText();
    expect.soft(box).toContain(`Epoch ${TOTAL} of ${TOTAL}`);
    expect.soft(box).toContain(`Accuracy after epoch ${TOTAL}`);
    // What was said before Start (the storage the run needs) goes once the run is done.
    expect(await startNote(page)).toBe('');

    // The same run again, paused from the page's Pause button in stage 1 and in stage 2.
    // (A click in the page's own task, at a known batch: the head's batches take milliseconds.)
    await page.evaluate((fineTuneStart) => {
      const pauseAt = [
        { stage: 'head', epoch: 1, batch: 1 },
        { stage: 'fine-tune', epoch: fineTuneStart, batch: 2 },
      ];
      const w = window as unknown as { rowsRecorded: number };
      window.graft.session.on('train', (event) => {
        // The curves' table rows the run's history calls for: the untrained head's and one per epoch.
        if (event.kind === 'epoch') w.rowsRecorded = event.history.epochs.length + (event.history.initial ? 1 : 0);
        const next = pauseAt[0];
        if (event.kind !== 'batch' || !next) return;
        const { stage, epoch, batch } = event.progress;
        if (stage === next.stage && epoch === next.epoch && batch >= next.batch) {
          pauseAt.shift();
          [...document.querySelectorAll<HTMLButtonElement>('#controls button')].find((b) => b.textContent === 'Pause')!.click();
        }
      });
    }, PAUSE_HEAD_EPOCHS);
    await page.getByRole('button', { name: 'Train again' }).click();
    for (const stage of ['Stage 1 of 2', 'Stage 2 of 2']) {
      await waitUntilNot(page, ['done', 'extracting', 'training']);
      expect(await page.locator('#training-progress').innerText()).toContain(stage);
      // The trainer has stopped: the epoch it stopped in does not go on, and the page stays paused. The curves show
      // every epoch it finished (drawn a frame or so after the epoch's event).
      const rows = await page.evaluate(() => (window as unknown as { rowsRecorded: number }).rowsRecorded);
      await expect.poll(() => epochsDone(page), { timeout: 10_000 }).toBe(rows);
      await page.waitForTimeout(2000);
      expect(await page.evaluate(() => (window as unknown as { rowsRecorded: number }).rowsRecorded)).toBe(rows);
      expect(await epochsDone(page)).toBe(rows);
      expect(await state(page), `paused in ${stage}`).toBe('paused');
      expect(await page.locator('#controls .run-state').innerText()).toBe('Paused.');
      expect(await page.locator('#banner [role=alert]').innerText()).toBe('');
      const resume = page.locator('#controls').getByRole('button', { name: 'Resume' });
      expect(await resume.isEnabled()).toBe(true);
      await resume.click();
    }
    await waitUntilNot(page, ['paused', 'extracting', 'training']);
    expect(await state(page)).toBe('done');

    // One row per epoch and the untrained head's: nothing of the paused run was lost or done twice.
    await expect.poll(() => epochsDone(page), { timeout: 10_000 }).toBe(TOTAL + 1);
    const [uninterrupted, paused] = await page.evaluate(() => (window as unknown as { histories: History[] }).histories);
    expect(paused.epochs.map((e) => [e.epoch, e.stage])).toEqual(uninterrupted.epochs.map((e) => [e.epoch, e.stage]));
    // Same seed: resumed from its checkpoints, the run retraces the uninterrupted one.
    paused.epochs.forEach((e, i) => {
      expect(e.valAccuracy).toBe(uninterrupted.epochs[i].valAccuracy);
      expect(e.valLoss).toBeCloseTo(uninterrupted.epochs[i].valLoss, 4);
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a finished run as finished when coming back: its results open, or it trains again', async () => {
    const page = await chrome.context.newPage();
    await openPage(page);
    const open = page.getByRole('button', { name: /^Open results of flowers-small/ }).first();
    await open.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.getByRole('button', { name: /^Train flowers-small .* again$/ }).count()).toBeGreaterThan(0);
    // Every run on this browser has finished: nothing offers to resume.
    expect(await page.getByRole('button', { name: /^Resume / }).count()).toBe(0);
    await page.screenshot({ path: join(SCREENS, 'e2e-8-finished-runs.png'), fullPage: true });

    await open.click();
    // The newest run's curves (every epoch and the untrained head) and its results, without training again.
    await expect.poll(() => epochsDone(page), { timeout: 60_000 }).toBe(TOTAL + 1);
    const validationCount = CLASSES.length * PER_CLASS * 0.2;
    await expect.poll(() => page.locator('#results .gallery > li').count(), { timeout: 30_000 }).toBe(validationCount);
    expect(await page.getByRole('button', { name: 'Choose an image…' }).isEnabled()).toBe(true);
    expect(await state(page)).toBe('idle');

    // Train again: a new run with that run's settings starts at once.
    await page.getByRole('button', { name: /^Train flowers-small .* again$/ }).first().click();
    await page.waitForFunction(() => window.graft.session.state === 'training', null, { timeout: 120_000 });
    expect(await page.getByLabel('Head epochs', { exact: true }).inputValue()).toBe(String(PAUSE_HEAD_EPOCHS));
    expect(await startNote(page)).not.toBe('');
    await page.locator('#controls').getByRole('button', { name: 'Cancel' }).click();
    expect(await state(page)).toBe('idle');
    // And once it is cancelled.
    expect(await startNote(page)).toBe('');
    await page.close();
  });

  it('stops a run whose learning rate is far too high, and says so', async () => {
    const page = await chrome.context.newPage();
    await openPage(page);
    // The form's largest learning rate; the trainer's own test uses 1e3.
    await chooseFlowers(page, { 'Head epochs': '3', 'Fine-tune epochs': '0', 'Learning rate': '1' });
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitUntilNot(page, ['idle', 'extracting', 'training']);
    expect(await state(page)).toBe('error');
    expect(await page.locator('#banner [role=alert]').innerText()).toContain('The learning rate of this stage (1) is likely too high');
    await page.close();
  });

  it('says “Browser storage is full” when a checkpoint or the classifier does not fit, and keeps what it could', async () => {
    const page = await chrome.context.newPage();
    await openPage(page);
    await chooseFlowers(page, { 'Head epochs': '2', 'Fine-tune epochs': '0' });
    const trainer = page.workers().find((w) => w.url().includes('train.worker'))!;
    /** Fills the disk for one store of the trainer's (null: for none): its puts fail as Chromium's do. */
    const fillUp = (store: string | null) =>
      trainer.evaluate((store) => {
        const g = globalThis as unknown as { realPut?: IDBObjectStore['put'] };
        const realPut = (g.realPut ??= IDBObjectStore.prototype.put);
        IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
          if (this.name === store) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return realPut.apply(this, args);
        };
      }, store);
    const alert = page.locator('#banner [role=alert]');

    await fillUp('checkpoints');
    await page.getByRole('button', { name: 'Start training' }).click();
    await waitUntilNot(page, ['idle', 'extracting', 'training']);
    expect(await state(page)).toBe('error');
    expect(await alert.innerText()).toMatch(
      /^Browser storage is full: the checkpoint after epoch 1 could not be saved; this run has no earlier checkpoint\. Cached features take \d+\.\d MB: free space or clear the cache under “Coming back”/m,
    );

    // The classifier does not fit: the run still ends with its results, and the classifier works in this tab.
    await fillUp('classifiers');
    await page.getByRole('button', { name: 'Train again' }).click();
    await waitUntilNot(page, ['error', 'extracting', 'training']);
    expect(await state(page)).toBe('done');
    const message = await alert.innerText();
    expect(message).toContain('Browser storage is full: the classifier “flowers-small · ');
    expect(message).toContain('It classifies and exports in this tab: export it to keep it.');
    await expect.poll(() => page.locator('#results .gallery > li').count(), { timeout: 30_000 }).toBe(CLASSES.length * PER_CLASS * 0.2);
    const tulips = join(SHARED, 'datasets/flowers/tulips');
    await page.locator('#classify input[type=file]').setInputFiles(join(tulips, (await readdir(tulips)).sort()[PER_CLASS + 1]));
    await page.locator('#classify .class-name').first().waitFor({ state: 'visible', timeout: 60_000 });
    await fillUp(null);
    await page.close();
  });
});

it('lists only runs that can be resumed, and "Delete everything" leaves nothing to come back to', async () => {
  const page = await chrome.context.newPage();
  await openPage(page);
  // The earlier tests left runs (finished or not), checkpoints and classifiers.
  const runButtons = () => page.getByRole('button', { name: /^(Resume|Open results of|Train) / }).count();
  await expect.poll(runButtons, { timeout: 30_000 }).toBeGreaterThan(0);
  const before = await countEachStore(page);
  expect(before.checkpoints).toBeGreaterThan(0);
  expect(before.classifiers).toBeGreaterThan(0);
  // Without its record (dataset, model, settings) a checkpoint cannot be resumed: it is not offered.
  await deleteAllRecords(page, 'runs');
  await page.reload();
  await graftReady(page);
  expect(await runButtons()).toBe(0);

  await page.getByRole('button', { name: 'Clear cache…' }).click();
  await expect.poll(() => page.getByRole('group', { name: 'Confirm clearing the cache' }).innerText()).toMatch(/trained classifier/);
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await expect.poll(() => page.locator('#coming-back').isHidden(), { timeout: 30_000 }).toBe(true);
  expect(await page.getByRole('button', { name: 'Choose an image…' }).isEnabled()).toBe(false);
  // (This visit built no classes of its own and published nothing: those stores, which it keeps, are empty too.)
  expect(await countEachStore(page)).toEqual({ features: 0, checkpoints: 0, classifiers: 0, runs: 0, 'local-classes': 0, 'local-samples': 0, publications: 0 });
  await page.close();

  // The next visit finds nothing: no run to resume, no classifier coming back.
  const next = await chrome.context.newPage();
  await openPage(next);
  expect(await next.locator('#coming-back').isHidden()).toBe(true);
  expect(await next.getByRole('button', { name: 'Choose an image…' }).isEnabled()).toBe(false);
  await next.close();
});
