/**
 * Live classification from the camera, in headless Chromium whose fake camera plays videos written here from real
 * flower photos the classifier never trained on. One browser profile, relaunched as a visitor comes back: train a
 * daisy/roses classifier through the page, then Live follows a daisy video; relaunched with a roses video, the
 * classifier restored from IndexedDB shows roses. Both run on LiteRT.js once the classifier's .tflite file is
 * built, and the runtime line says so; with LiteRT.js unreachable the trainer's TF.js classifier answers, and the
 * line says why. Live never makes a long task, one frame is in flight at a time and
 * each is transferred to the worker, and a hidden tab or a Live view scrolled away turns the camera off. Without a
 * camera (refused, none, an insecure page) the page says so in plain words and classifying a photo still works;
 * nothing asks for the camera before the visitor clicks.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { openGraft } from '../support/browser';
import { within } from '../../tools/measure/within';
import { busyForLong, traceMainThread } from '../../tools/measure/main-thread';
import { fakeCameraFlags, writeY4m } from '../../tools/measure/fake-camera';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';

const SCREENS = '.local/screens';
const CLASSES = ['daisy', 'roses'];
/** Photos of each class the classifier trains on (the first, by name). */
const PER_CLASS = 30;
/** Photos of each class in its video: the next ones, never trained on. */
const VIDEO_PHOTOS = 8;
/** Classified frames a check looks at. */
const FRAMES = 30;

let graft: SeededGraft;
let root: string;
let profile: string;
const videos: Record<string, string> = {};
let chrome: Chromium | null = null;

beforeAll(async () => {
  await mkdir(SCREENS, { recursive: true });
  root = await mkdtemp(join(tmpdir(), 'graft-live-'));
  profile = join(root, 'profile');
  for (const name of CLASSES) {
    const folder = join(SHARED, 'datasets/flowers', name);
    const unseen = (await readdir(folder)).sort().slice(PER_CLASS, PER_CLASS + VIDEO_PHOTOS);
    videos[name] = await writeY4m(join(root, `${name}.y4m`), unseen.map((f) => join(folder, f)));
  }
  graft = await seededGraft([{ id: 'flowers-live', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, PER_CLASS])) }]);
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** (Re)launches the one browser profile of this file with `args`, closing the previous launch. */
async function relaunch(args: string[]): Promise<Chromium> {
  await chrome?.close();
  chrome = await launchChromium({ profile, args });
  return chrome;
}

interface LiveWindow {
  cameraAsks: number;
  liveTops: string[];
  /** Most frames on their way to the worker at once, and frames still readable here after the worker had them. */
  maxInFlight: number;
  notTransferred: number;
}

/**
 * Opens the page (at `origin`) with its camera requests counted from the start, and
 * waits until it is ready (a saved classifier restored).
 */
async function openPage(browser: Chromium, origin = graft.origin): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as LiveWindow;
    Object.assign(w, { cameraAsks: 0, liveTops: [] });
    const devices = navigator.mediaDevices;
    const ask = devices?.getUserMedia?.bind(devices);
    if (ask) devices.getUserMedia = (constraints) => ((w.cameraAsks += 1), ask(constraints));
  });
  await openGraft(page, `${origin}/`);
  return page;
}

/** The runtime line's "Classify & Live" item once the engine for the classifier in use is settled. */
async function classifierEngine(page: Page): Promise<string> {
  await within('choosing the classifier’s engine', 120_000, page.evaluate(() => window.graft.classifier.engineReady));
  return page.locator('#runtime-status .runtime-classifier').innerText();
}
const LITERT_LINE = /^Classify & Live: LiteRT\.js WASM · [^·]+ · 1 thread · (float32|int8) file/;

const cameraAsks = (page: Page) => page.evaluate(() => (window as unknown as LiveWindow).cameraAsks);
const liveTops = (page: Page) => page.evaluate(() => (window as unknown as LiveWindow).liveTops);
const trackState = (page: Page) => page.evaluate(() => (window as unknown as { liveTrack?: MediaStreamTrack }).liveTrack?.readyState ?? null);

/**
 * Clicks "Start the camera" and records the top class of every frame classified from then on, how many frames were
 * in flight at once, and whether each reached the worker as a transfer (a sent bitmap is left empty here).
 */
async function startLive(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as LiveWindow & { liveTrack?: MediaStreamTrack };
    Object.assign(w, { liveTops: [], maxInFlight: 0, notTransferred: 0 });
    const { classifier } = window.graft;
    const classifyFrame = classifier.classifyFrame.bind(classifier);
    let inFlight = 0;
    classifier.classifyFrame = async (frame) => {
      w.maxInFlight = Math.max(w.maxInFlight, ++inFlight);
      try {
        return await classifyFrame(frame);
      } finally {
        inFlight -= 1;
        if (frame.width !== 0) w.notTransferred += 1;
      }
    };
    window.graft.live.addEventListener('frame', (event) => {
      const { classes, probabilities } = (event as CustomEvent<{ classes: string[]; probabilities: Float32Array }>).detail;
      w.liveTops.push(classes[probabilities.indexOf(Math.max(...probabilities))]);
      w.liveTrack = window.graft.live.stream?.getVideoTracks()[0];
    });
  });
  await page.getByRole('button', { name: 'Start the camera' }).click();
}

/** The top classes of the next FRAMES classified frames. */
async function nextFrames(page: Page): Promise<string[]> {
  const from = (await liveTops(page)).length;
  await expect.poll(async () => (await liveTops(page)).length - from, { timeout: 180_000, interval: 500 }).toBeGreaterThanOrEqual(FRAMES);
  return (await liveTops(page)).slice(from, from + FRAMES);
}

const share = (tops: string[], name: string) => tops.filter((t) => t === name).length / tops.length;

/** Makes the page hidden or visible again, as switching tabs does, and tells it so. */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((hidden) => {
    if (hidden) {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    } else {
      // The document's own properties go; the prototype's real getters answer again.
      delete (document as { hidden?: boolean }).hidden;
      delete (document as { visibilityState?: string }).visibilityState;
    }
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

it('trains, then Live follows the daisies the camera sees, with no long task, and the camera is off while Live is out of sight', async () => {
  const page = await openPage(await relaunch(fakeCameraFlags(videos.daisy)));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await expect(page.getByRole('button', { name: 'Start the camera' }).isDisabled()).resolves.toBe(true);

  await page.locator('#dataset-picker').getByText('flowers-live').first().click();
  await expect.poll(() => page.locator('#sample-grid img, #sample-grid canvas').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CLASSES.length);
  // Head only, in enough small steps for 48 training photos.
  await page.getByLabel('Head epochs', { exact: true }).fill('20');
  await page.getByLabel('Batch size', { exact: true }).fill('8');
  await page.getByLabel('Fine-tune epochs', { exact: true }).fill('0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 600_000 });
  expect(await page.evaluate(() => window.graft.session.state)).toBe('done');
  // Loading, training and results never asked for the camera.
  expect(await cameraAsks(page)).toBe(0);
  // The classifier's TFLite file is built and compiled: LiteRT.js classifies, and the runtime line says so.
  expect(await classifierEngine(page)).toMatch(LITERT_LINE);

  const mainThread = await traceMainThread(page);
  await startLive(page);
  const daisyFrames = await nextFrames(page);
  const busyTasks = busyForLong(await mainThread.stop());
  console.log(`Live on the daisy video: ${daisyFrames.join(' ')}; ${await page.locator('#live .live-fps').innerText()}`);
  expect(await cameraAsks(page)).toBe(1);
  expect(share(daisyFrames, 'daisy')).toBeGreaterThan(0.5);
  // One frame at a time, each handed over to the worker, not copied.
  expect(await page.evaluate(() => [(window as unknown as LiveWindow).maxInFlight, (window as unknown as LiveWindow).notTransferred])).toEqual([1, 0]);
  // What the visitor reads: the top class in words, a bar and a percentage per class, the frame rate.
  expect(await page.locator('#live .live-top').innerText()).toMatch(/^Top class: (daisy|roses)$/);
  expect(await page.locator('#live .live-bars li').allInnerTexts()).toEqual([expect.stringMatching(/^daisy\s+[\d.]+%$/), expect.stringMatching(/^roses\s+[\d.]+%$/)]);
  expect(await page.locator('#live .live-fps').innerText()).toMatch(/^\d+\.\d frames\/s$/);
  expect(await page.locator('#live video').evaluate((v) => getComputedStyle(v).transform)).toBe('matrix(-1, 0, 0, 1, 0, 0)');
  // Measured before the screenshot, which is the test's own main-thread work.
  expect(busyTasks).toEqual([]);
  await page.locator('#live').screenshot({ path: join(SCREENS, 'live.png') });
  // A narrow screen: the preview and the bars fit, nothing sticks out sideways.
  await page.setViewportSize({ width: 360, height: 800 });
  await page.locator('#live').scrollIntoViewIfNeeded();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await page.locator('#live').screenshot({ path: join(SCREENS, 'live-narrow.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator('#live').scrollIntoViewIfNeeded();
  await nextFrames(page);

  // The tab goes to the background: the camera turns off and no frame is classified; back, it turns on again.
  expect(await trackState(page)).toBe('live');
  await setHidden(page, true);
  expect(await trackState(page)).toBe('ended');
  const whileHidden = (await liveTops(page)).length;
  await page.waitForTimeout(2000);
  expect((await liveTops(page)).length).toBe(whileHidden);
  expect(await page.locator('#live .live-status').innerText()).toMatch(/out of sight/);
  await setHidden(page, false);
  await nextFrames(page);
  expect(await trackState(page)).toBe('live');

  // Live scrolled out of sight: the camera turns off as well; scrolled back, on again.
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect.poll(() => trackState(page), { timeout: 10_000 }).toBe('ended');
  await page.locator('#live').scrollIntoViewIfNeeded();
  await nextFrames(page);
  expect(await trackState(page)).toBe('live');

  // Stop: the camera is off.
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  expect(await trackState(page)).toBe('ended');
  expect(errors).toEqual([]);
});

it('relaunched with a roses video, the classifier restored from IndexedDB shows roses', async () => {
  const page = await openPage(await relaunch(fakeCameraFlags(videos.roses)));
  expect(await cameraAsks(page)).toBe(0);
  // The restored classifier's file is built again and LiteRT.js classifies.
  expect(await classifierEngine(page)).toMatch(LITERT_LINE);
  await startLive(page);
  const frames = await nextFrames(page);
  console.log(`Live on the roses video: ${frames.join(' ')}`);
  expect(share(frames, 'roses')).toBeGreaterThan(0.5);
});

it('without LiteRT.js (its files unreachable), the trainer’s TF.js classifier answers Live and photos, and the runtime line says why', async () => {
  const browser = await relaunch(fakeCameraFlags(videos.roses));
  await browser.context.route('**/litert/**', (route) => route.abort());
  const page = await openPage(browser);
  const line = await classifierEngine(page);
  console.log(`Without LiteRT.js: ${line}`);
  expect(line).toMatch(/^Classify & Live: TF\.js in the trainer worker \(\S.+\)$/);
  expect(await page.evaluate(() => window.graft.classifier.engine.engine)).toBe('tfjs');
  await startLive(page);
  expect(share(await nextFrames(page), 'roses')).toBeGreaterThan(0.5);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  expect(CLASSES).toContain(await classifyPhoto(page));
  await browser.context.unroute('**/litert/**');
});

/** Classifies an unseen photo from a file and returns the top class shown. */
async function classifyPhoto(page: Page): Promise<string> {
  const roses = join(SHARED, 'datasets/flowers/roses');
  const unseen = (await readdir(roses)).sort()[PER_CLASS + VIDEO_PHOTOS];
  await page.locator('#classify input[type=file]').setInputFiles(join(roses, unseen));
  const top = page.locator('#classify .class-name').first();
  await top.waitFor({ state: 'visible', timeout: 60_000 });
  return (await top.innerText()).trim();
}

it('a refused camera is said in plain words, and classifying a photo still works', async () => {
  const page = await openPage(await relaunch(fakeCameraFlags(videos.roses, false)));
  await page.getByRole('button', { name: 'Start the camera' }).click();
  await expect.poll(() => page.locator('#live [role=alert]').innerText(), { timeout: 30_000 }).toMatch(/^Camera access was refused\./);
  expect(await page.evaluate(() => window.graft.live.state)).toBe('off');
  expect(CLASSES).toContain(await classifyPhoto(page));
});

it('no camera, or an insecure page, is said in plain words; the insecure page never asks', async () => {
  // No fake camera device: this machine has none. The insecure page is the same server under a name that is not
  // localhost, over http.
  const browser = await relaunch(['--use-fake-ui-for-media-stream', '--host-resolver-rules=MAP graft.test 127.0.0.1']);
  const page = await openPage(browser);
  const cameras = await page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length);
  expect(cameras, 'this test needs a machine without a camera').toBe(0);
  await page.getByRole('button', { name: 'Start the camera' }).click();
  await expect.poll(() => page.locator('#live [role=alert]').innerText(), { timeout: 30_000 }).toMatch(/^No camera was found on this device\./);
  expect(CLASSES).toContain(await classifyPhoto(page));

  const insecure = await openPage(browser, graft.origin.replace(/\/\/[^:/]+/, '//graft.test'));
  expect(await insecure.evaluate(() => window.isSecureContext)).toBe(false);
  expect(await insecure.locator('#live [role=alert]').innerText()).toMatch(/^The camera needs a secure page \(https or localhost\)\./);
  expect(await insecure.getByRole('button', { name: 'Start the camera' }).isDisabled()).toBe(true);
  expect(await cameraAsks(insecure)).toBe(0);
});
