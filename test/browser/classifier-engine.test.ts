/**
 * Which classifier answers Classify and Live after a run, as a visitor goes on: "Train again" clicked while the
 * finished run's TFLite files are still being built stops that build (the new run does not queue behind it, and
 * the old build's answer never comes), and the new run's classifier answers once it ends; choosing another base
 * model without training sets the classifier aside (Classify and Live say there is none for this base yet), and
 * choosing its own base again, whose results the page still shows, brings it back. The default settings fit any
 * base chosen: on MobileNetV1 fine-tuning starts inside its own layers and a run of both stages ends done, while a
 * layer the visitor typed stays theirs and is marked where it does not fit.
 */
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { within } from '../../tools/measure/within';
import { openGraft } from '../support/browser';
import { MODEL_V2_ID, SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';

const CLASSES = ['daisy', 'roses'];
const PER_CLASS = 15;
const MODEL_V1_ID = 'mobilenet_v1_0.25_224';

let graft: SeededGraft;
let chrome: Chromium;
let page: Page;

/** What the page said, in order: its states, the classify engine's statuses, and the TFLite check workers it started. */
interface EngineWindow {
  said: string[];
  trainedAgain: boolean;
}

beforeAll(async () => {
  graft = await seededGraft([{ id: 'flowers-engine', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, PER_CLASS])) }], {
    extraModels: [join(SHARED, 'models', MODEL_V1_ID)],
  });
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as EngineWindow;
    Object.assign(w, { said: [], trainedAgain: false });
    // Every worker the page starts by name: the TFLite check of a build is 'graft-tflite-check'.
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        if (options?.name === 'graft-tflite-check') w.said.push('tflite check started');
      }
    };
  });
  await openGraft(page, `${graft.origin}/`);
}, 300_000);

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

/** The classify panel's "Choose an image…" button. */
const chooseImage = () => page.locator('#classify').getByRole('button', { name: 'Choose an image…' });
const said = () => page.evaluate(() => (window as unknown as EngineWindow).said);
const engineReady = () => within('choosing the classifier’s engine', 180_000, page.evaluate(() => window.graft.classifier.engineReady));

/** Classifies an unseen roses photo through the classify panel and returns the top class shown. */
async function classifyPhoto(): Promise<string> {
  const roses = join(SHARED, 'datasets/flowers/roses');
  const unseen = (await readdir(roses)).sort()[PER_CLASS + 1];
  await page.locator('#classify input[type=file]').setInputFiles(join(roses, unseen));
  const top = page.locator('#classify .class-name').first();
  await top.waitFor({ state: 'visible', timeout: 60_000 });
  return (await top.innerText()).trim();
}

it('"Train again" at once stops the finished run’s TFLite build: the new run does not wait for it, and its own classifier answers', async () => {
  await page.locator('#dataset-picker').getByText('flowers-engine').first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);
  await page.locator(`#model-picker input[value="${MODEL_V2_ID}"]`).check();
  await page.getByLabel('Head epochs', { exact: true }).fill('4');
  await page.getByLabel('Batch size', { exact: true }).fill('8');
  await page.getByLabel('Fine-tune epochs', { exact: true }).fill('0');
  // The moment LiteRT.js answers with the finished run's float32 file, its int8 file's build begins: "Train again" then.
  await page.evaluate(() => {
    const w = window as unknown as EngineWindow;
    const { session, classifier } = window.graft;
    session.on('state', (s) => w.said.push(`state ${s}`));
    session.on('error', (message) => w.said.push(`error: ${message}`));
    classifier.on('status', (status) => {
      w.said.push(`${status.engine}: ${status.text}`);
      if (status.engine !== 'litert' || w.trainedAgain) return;
      w.trainedAgain = true;
      w.said.push('train again');
      document.querySelector<HTMLButtonElement>('#controls button.primary')!.click();
    });
  });
  await page.getByRole('button', { name: 'Start training' }).click();
  // The first run, then the second (or an error).
  const ended = async () => {
    const log = await said();
    return log.includes('state error') || log.filter((s) => s === 'state done').length === 2;
  };
  await expect.poll(ended, { timeout: 480_000, interval: 1000 }).toBe(true);
  expect((await said()).filter((s) => s.startsWith('error: '))).toEqual([]);
  await engineReady();
  const log = await said();
  console.log(log.join('\n'));
  const again = log.indexOf('train again');
  const secondDone = log.lastIndexOf('state done');
  expect(again).toBeGreaterThan(0);
  const whileTrainingAgain = log.slice(again, secondDone);
  // The new run went through its stages...
  expect(whileTrainingAgain).toContain('state training');
  // ...and the first run's int8 build was stopped, not finished beside it: no TFLite check, no int8 answer.
  expect(whileTrainingAgain).not.toContain('tflite check started');
  expect(whileTrainingAgain.filter((s) => s.includes('int8'))).toEqual([]);
  // The second run's classifier answers, on LiteRT.js once its file is built (float32, or int8 where it agrees).
  expect(log.slice(secondDone).some((s) => s.startsWith('litert: '))).toBe(true);
  expect(await page.locator('#runtime-status .runtime-classifier').innerText()).toMatch(/^Classify & Live: LiteRT\.js /);
  expect(CLASSES).toContain(await classifyPhoto());
}, 900_000);

it('another base model chosen without training: Classify and Live say there is no classifier for it yet; its own base again brings it back', async () => {
  await page.locator(`#model-picker input[value="${MODEL_V1_ID}"]`).check();
  await expect.poll(() => chooseImage().isDisabled()).toBe(true);
  expect(await page.locator('#classify').innerText()).toMatch(/No classifier for this base model yet/);
  expect(await page.getByRole('button', { name: 'Start the camera' }).isDisabled()).toBe(true);
  expect(await page.evaluate(() => window.graft.classifier.engine.engine)).toBe('none');
  expect(await page.locator('#runtime-status .runtime-classifier').isHidden()).toBe(true);
  // Asked anyway (a console, a test), it refuses rather than answer with the other base's classifier.
  const photo = join(SHARED, 'datasets/flowers/roses', (await readdir(join(SHARED, 'datasets/flowers/roses'))).sort()[0]);
  const refusal = await page.evaluate(async (bytes) => {
    try {
      await window.graft.classifier.classify(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
      return 'answered';
    } catch (error) {
      return (error as Error).message;
    }
  }, [...(await readFile(photo))]);
  expect(refusal).toMatch(/no classifier for this base model yet/i);

  // The run's own base again: the page still shows its results, so its classifier answers again.
  await page.locator(`#model-picker input[value="${MODEL_V2_ID}"]`).check();
  await expect.poll(() => chooseImage().isDisabled()).toBe(false);
  // The model summary names the base as the picker does.
  const pickerName = await page.locator('#model-picker label', { has: page.locator(`input[value="${MODEL_V2_ID}"]`) }).locator('.choice-title').innerText();
  await expect.poll(() => page.locator('#model-summary h3').innerText(), { timeout: 30_000 }).toBe(pickerName);
  await engineReady();
  expect(await page.locator('#runtime-status .runtime-classifier').innerText()).toMatch(/^Classify & Live: LiteRT\.js /);
  expect(CLASSES).toContain(await classifyPhoto());
});

it('"Open results" of a run on another base than the one chosen brings back that run’s base with its classifier', async () => {
  const roses = join(SHARED, 'datasets/flowers/roses');
  const photo = [...(await readFile(join(roses, (await readdir(roses)).sort()[PER_CLASS + 2])))];
  /** The classifier's answer for one unseen roses photo, asked the way the panel asks it. */
  const answer = () =>
    page.evaluate(async (bytes) => {
      const [top] = await window.graft.classifier.classify(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
      return top;
    }, photo);
  const before = await answer();
  await page.locator(`#model-picker input[value="${MODEL_V1_ID}"]`).check();
  await expect.poll(() => chooseImage().isDisabled()).toBe(true);

  // "Open results" uses the catalog the page loaded at its start: it does not ask the server for it again.
  const catalogRequests: string[] = [];
  const countCatalog = (request: { url(): string }) => {
    const path = new URL(request.url()).pathname;
    if (path === '/api/datasets' || path === '/api/models') catalogRequests.push(path);
  };
  page.on('request', countCatalog);
  // Its results come last, once the run's base and classifier are chosen again.
  await page.evaluate(() => {
    const w = window as unknown as { opened: Promise<void> };
    w.opened = new Promise((resolve) => {
      const off = window.graft.session.on('results', () => {
        off();
        resolve();
      });
    });
  });
  await page.getByRole('button', { name: /^Open results of flowers-engine/ }).first().click();
  await within('the run’s results opened', 60_000, page.evaluate(() => (window as unknown as { opened: Promise<void> }).opened));
  page.off('request', countCatalog);
  expect(catalogRequests).toEqual([]);
  // The run's own base is chosen again, in the picker and in the session, and its classifier answers as before.
  await expect.poll(() => chooseImage().isDisabled(), { timeout: 60_000 }).toBe(false);
  expect(await page.evaluate(() => window.graft.session.model?.id)).toBe(MODEL_V2_ID);
  expect(await page.locator(`#model-picker input[value="${MODEL_V2_ID}"]`).isChecked()).toBe(true);
  await engineReady();
  const after = await answer();
  expect(after.className).toBe(before.className);
  // The same classifier on the same base (its float32 or int8 file): the same answer within quantization's error.
  expect(Math.abs(after.probability - before.probability)).toBeLessThan(0.05);
});

it('a visit after the run restores the newest classifier on its own base, whichever base the page starts on', async () => {
  const roses = join(SHARED, 'datasets/flowers/roses');
  const photo = [...(await readFile(join(roses, (await readdir(roses)).sort()[PER_CLASS + 2])))];
  const answer = (on: Page) =>
    on.evaluate(async (bytes) => {
      const [top] = await window.graft.classifier.classify(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
      return top;
    }, photo);
  const before = await answer(page);
  const starts = (await (await fetch(`${graft.origin}/api/models`)).json()) as { id: string }[];
  console.log(`the page starts on ${starts[0].id}; the newest classifier is on ${MODEL_V2_ID}`);

  const next = await chrome.context.newPage();
  await openGraft(next, `${graft.origin}/`);
  await within('the restored classifier’s engine', 180_000, next.evaluate(() => window.graft.classifier.engineReady));
  expect(await next.evaluate(() => window.graft.session.model?.id)).toBe(MODEL_V2_ID);
  expect(await next.locator(`#model-picker input[value="${MODEL_V2_ID}"]`).isChecked()).toBe(true);
  expect(await next.locator('#classify').getByRole('button', { name: 'Choose an image…' }).isDisabled()).toBe(false);
  const after = await answer(next);
  expect(after.className).toBe(before.className);
  expect(Math.abs(after.probability - before.probability)).toBeLessThan(0.05);
  await next.close();
});

it('another base chosen with the default settings: fine-tuning starts inside its own layers, and a run of both stages ends done; a layer typed for one base is checked against the next', async () => {
  const fineTuneField = page.getByLabel('Fine-tune from layer', { exact: true });
  const layerNames = () => page.locator('#model-summary .layer-table tbody td code').allTextContents();
  const pickerName = (id: string) => page.locator('#model-picker label', { has: page.locator(`input[value="${id}"]`) }).locator('.choice-title').innerText();
  await page.locator('#dataset-picker').getByText('flowers-engine').first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);
  await page.locator(`#model-picker input[value="${MODEL_V1_ID}"]`).check();

  // The summary names V1 and lists V1's layers (up to its bottleneck), none of V2's; no error is said.
  const v1Name = await pickerName(MODEL_V1_ID);
  await expect.poll(() => page.locator('#model-summary h3').innerText(), { timeout: 60_000 }).toBe(v1Name);
  await expect.poll(async () => (await layerNames()).at(-1), { timeout: 60_000 }).toBe('conv_pw_13_relu');
  const names = await layerNames();
  expect(names.filter((name) => name.startsWith('block_'))).toEqual([]);
  expect(await page.locator('#banner').innerText()).not.toMatch(/fine_tune_at|layer/i);
  // The fine-tuning layer is one of V1's: the field says which, the layer table marks it, and nothing is marked wrong.
  const fineTuneAt = Number(await fineTuneField.inputValue());
  console.log(`V1: ${names.length} layers, fine-tuning from ${fineTuneAt} (${names[fineTuneAt]})`);
  expect(fineTuneAt).toBeGreaterThanOrEqual(2);
  expect(fineTuneAt).toBeLessThan(names.length);
  expect(await page.locator('#model-summary tr.cut-row td').first().textContent()).toBe(String(fineTuneAt));
  expect(await page.locator('#settings-form [aria-invalid="true"]').count()).toBe(0);

  // A short run with fine-tuning on V1, with the rest of the form as it is: both stages, then done.
  await page.getByLabel('Head epochs', { exact: true }).fill('2');
  await page.getByLabel('Fine-tune epochs', { exact: true }).fill('1');
  await page.getByLabel('Batch size', { exact: true }).fill('8');
  await page.evaluate(() => {
    const w = window as unknown as { v1Said: string[] };
    w.v1Said = [];
    const { session } = window.graft;
    session.on('state', (s) => w.v1Said.push(`state ${s}`));
    session.on('error', (message) => w.v1Said.push(`error: ${message}`));
    session.on('train', (event) => event.kind === 'epoch' && w.v1Said.push(`epoch ${event.record.epoch} ${event.record.stage}`));
  });
  const v1Said = () => page.evaluate(() => (window as unknown as { v1Said: string[] }).v1Said);
  // Start (or "Train again" after the runs before).
  const start = page.locator('#controls button.primary');
  await start.click();
  await expect.poll(async () => (await v1Said()).some((s) => s === 'state done' || s === 'state error'), { timeout: 480_000, interval: 1000 }).toBe(true);
  const log = await v1Said();
  console.log(log.join('\n'));
  expect(log.filter((s) => s.startsWith('error: ') || s === 'state error')).toEqual([]);
  expect(log).toContain('state done');
  expect(log.filter((s) => s.startsWith('epoch ')).map((s) => s.split(' ')[2])).toEqual(['head', 'head', 'fine-tune']);
  expect(await page.evaluate(() => window.graft.session.run?.settings.fineTuneAt)).toBe(fineTuneAt);

  // A layer the visitor types stays theirs: 120 fits V2 (kept there) but not V1, where the field and Start say why
  // and the summary shows no layers of V2 under V1's name.
  await fineTuneField.fill('120');
  await fineTuneField.dispatchEvent('change');
  await expect.poll(() => page.locator('#settings-form .field-fineTuneAt .field-error').innerText()).toMatch(/from 2 to 81/);
  await page.locator(`#model-picker input[value="${MODEL_V2_ID}"]`).check();
  await expect.poll(() => page.locator('#model-summary h3').innerText(), { timeout: 60_000 }).toBe(await pickerName(MODEL_V2_ID));
  await expect.poll(() => page.locator('#model-summary tr.cut-row td').first().textContent(), { timeout: 60_000 }).toBe('120');
  expect(await fineTuneField.inputValue()).toBe('120');
  expect(await page.locator('#settings-form .field-fineTuneAt .field-error').innerText()).toBe('');
  await page.locator(`#model-picker input[value="${MODEL_V1_ID}"]`).check();
  await expect.poll(() => page.locator('#settings-form .field-fineTuneAt .field-error').innerText(), { timeout: 60_000 }).toMatch(/from 2 to 81/);
  expect(await fineTuneField.inputValue()).toBe('120');
  await expect.poll(() => page.locator('#model-summary h3').innerText()).toBe(v1Name);
  expect((await layerNames()).filter((name) => name.startsWith('block_'))).toEqual([]);
  await start.click();
  await expect.poll(() => page.locator('#controls').innerText()).toMatch(/Fine-tune from layer: Enter a layer number from 2 to 81/);
  expect(await page.evaluate(() => window.graft.session.state)).toBe('done');
}, 900_000);
