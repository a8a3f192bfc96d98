/**
 * The classify-only page /m/<id> of a published classifier, in headless Chromium against the real `wrangler dev`
 * with open publishing. The classifier is real (MobileNetV2-0.35 with a head trained on flowers in Node) and is
 * published through the API client as the trainer's page publishes. A first visit, in a fresh browser: the page
 * classifies photos the classifier never saw with the TF.js model's top class, shows its model card, makes at most
 * 5 API requests and never loads the training code (no tfjs, no trainer, one LiteRT.js build); on a phone-sized
 * screen nothing sticks out sideways, and at 360 px every text reads whole, the top classes' names included
 * (screenshots are kept in .local/screens). Embedded by its own snippet in another origin's page, it classifies
 * there too (not cross-origin isolated: one thread). A repeat visit fetches no model file again (the browser's
 * cache answers). A model file that fails its hash check is refused in
 * words; an unknown, malformed or unpublished id gets the plain page.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import type { PublishResult } from '../../shared/publication';
import { publicationsApi } from '../../client/api/publications';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { classifyPageReady, classifyPhoto, requestsTo, visit, type VisitRequest } from '../../tools/measure/classify-page';
import { startGraft, type GraftServer } from '../../tools/graft-server';
import { within } from '../../tools/measure/within';
import { textOutsideItsBox } from '../support/layout';
import { publish, publishInput, trainedClassifier, type TrainedClassifier } from '../support/published-classifier';

const SCREENS = '.local/screens';
/** A phone's viewport (CSS pixels). */
const PHONE = { width: 390, height: 844 };
/** A small phone's viewport, the narrowest the page is made for. */
const NARROW_PHONE = { width: 360, height: 780 };
/** Unseen photos of each class classified in the first visit. */
const PER_CLASS = 2;
/** A top class the TF.js model gives by less than this over the second is a tie the decoders may break apart. */
const CLEAR_MARGIN = 0.05;

let root: string;
let server: GraftServer;
let classifier: TrainedClassifier;
let float32: PublishResult;
let int8: PublishResult;
let chrome: Chromium | null = null;
let photos: { path: string; className: string }[];
let tfjsTop: string[];
let tfjsMargin: number[];

beforeAll(async () => {
  await mkdir(SCREENS, { recursive: true });
  root = await mkdtemp(join(tmpdir(), 'graft-classify-page-'));
  [classifier, server] = await Promise.all([trainedClassifier(), startGraft({ persistTo: join(root, 'state'), vars: { PUBLISH: 'open' } })]);
  float32 = await publish(server.origin, publishInput(classifier, 'float32'));
  int8 = await publish(server.origin, publishInput(classifier, 'int8', 'Flowers, int8'));
  photos = await classifier.unseen(PER_CLASS);
  const probabilities = await classifier.probabilities(photos.map((p) => p.path));
  tfjsTop = probabilities.map((p) => classifier.classes[p.indexOf(Math.max(...p))]);
  tfjsMargin = probabilities.map((p) => {
    const [first, second] = [...p].sort((a, b) => b - a);
    return first - second;
  });
});

afterAll(async () => {
  await chrome?.close();
  await server?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A browser with an empty profile: a first visit. */
async function freshBrowser(): Promise<Chromium> {
  await chrome?.close();
  chrome = await launchChromium();
  return chrome;
}

const paths = (requests: VisitRequest[]) => requests.map((r) => new URL(r.url).pathname);

it('classifies photos it never saw with the TF.js model’s top class, in at most 5 API requests and without the training code', async () => {
  const browser = await freshBrowser();
  const first = await visit(browser.context, `${server.origin}${float32.path}`);
  const { page } = first;
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await classifyPageReady(page);
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Flowers, five kinds');
  // Plain text, line breaks kept.
  expect(await page.locator('#description').innerText()).toBe('Daisies, dandelions, roses, sunflowers and tulips.\nTrained in the browser with Graft.');
  expect(await page.locator('#engine').innerText()).toMatch(/^Classifies on this device: LiteRT\.js WASM · (relaxed SIMD|SIMD) · 1 thread · float32 file\.$/);

  const shown: string[] = [];
  for (const photo of photos) shown.push((await classifyPhoto(page, photo.path)).top);
  console.log(`classify page, float32: ${shown.join(' ')} (TF.js: ${tfjsTop.join(' ')}; margins ${tfjsMargin.map((m) => m.toFixed(2)).join(' ')})`);
  shown.forEach((top, i) => {
    if (tfjsMargin[i] > CLEAR_MARGIN) expect(top, photos[i].path).toBe(tfjsTop[i]);
  });
  expect(tfjsMargin.filter((m) => m > CLEAR_MARGIN).length).toBeGreaterThanOrEqual(photos.length - 2);
  // The classifier tells the kinds apart (not one answer for every photo).
  expect(shown.filter((top, i) => top === photos[i].className).length).toBeGreaterThanOrEqual(photos.length * 0.7);

  await first.settled();
  const api = requestsTo(first.requests, '/api/');
  console.log(`first visit: ${first.requests.length} requests, API ${paths(api).join(', ')}`);
  expect(api.length).toBeLessThanOrEqual(5);
  expect(api.every((r) => r.status === 200)).toBe(true);
  // No training code: no tfjs in any script or worker, no trainer, farm or check worker; one LiteRT.js wasm build.
  const scripts = first.requests.filter((r) => /\.(m?js)$/.test(new URL(r.url).pathname));
  expect(paths(scripts).filter((p) => /train|extract|fine-tune|check\.worker|tfjs/.test(p))).toEqual([]);
  for (const script of scripts) expect(await (await fetch(script.url)).text(), script.url).not.toContain('tfjsflags');
  expect(paths(first.requests).filter((p) => p.endsWith('.wasm'))).toEqual(['/litert/litert_wasm_internal.wasm']);

  // A phone's screen: nothing sticks out sideways, and the photo input is still the visitor's to use.
  await page.setViewportSize(PHONE);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  expect((await classifyPhoto(page, photos[0].path)).top).toBe(shown[0]);
  await page.screenshot({ path: join(SCREENS, 'classify-page-phone.png'), fullPage: true });
  expect(errors).toEqual([]);
});

it('on a 360 px wide phone, every text reads whole: no class name cut to “sunflo…”, no caption cut; up to 1280 px no name is broken', async () => {
  const page = (await visit((chrome ?? (await freshBrowser())).context, `${server.origin}${float32.path}`)).page;
  await page.setViewportSize(NARROW_PHONE);
  await classifyPageReady(page);
  await classifyPhoto(page, photos.find((p) => p.className === 'sunflowers')!.path);
  const names = await page.locator('.top-classes .class-name').evaluateAll((spans) =>
    spans.map((span) => ({ text: span.textContent, clipped: span.scrollWidth > span.clientWidth, right: span.getBoundingClientRect().right })),
  );
  expect(names.length).toBe(3);
  for (const name of names) {
    expect(classifier.classes).toContain(name.text);
    expect(name, `“${name.text}” shown whole`).toMatchObject({ clipped: false });
    expect(name.right).toBeLessThanOrEqual(NARROW_PHONE.width);
  }
  // Nor any other text: the model card's table captions wrap in the visible width (the tables scroll).
  expect(await textOutsideItsBox(page)).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(NARROW_PHONE.width);
  await page.screenshot({ path: join(SCREENS, 'classify-page-360.png'), fullPage: true });
  // From phone to laptop, a short name like “sunflowers” sits on one line: the list has room, it is not broken.
  for (const width of [360, 560, 768, 1024, 1280]) {
    await page.setViewportSize({ width, height: NARROW_PHONE.height });
    const lines = await page.locator('.top-classes .class-name').evaluateAll((spans) =>
      spans.map((span) => {
        const range = document.createRange();
        range.selectNodeContents(span);
        return `${span.textContent}: ${new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size}`;
      }),
    );
    expect(lines, `at ${width} px`).toEqual(names.map((name) => `${name.text}: 1`));
  }
  await page.close();
});

it('a repeat visit fetches no model file again: the browser’s cache answers', async () => {
  const again = await visit(chrome!.context, `${server.origin}${float32.path}`);
  await classifyPageReady(again.page);
  await again.settled();
  const models = requestsTo(again.requests, `/api/publications/${float32.id}/model-`);
  expect(models.length).toBe(1);
  expect(models.every((r) => r.fromCache && r.bytes === 0)).toBe(true);
});

it('embedded with its own snippet in another site’s page, it classifies a photo there, on one thread without isolation', async () => {
  const page = (await visit((chrome ?? (await freshBrowser())).context, `${server.origin}${float32.path}`)).page;
  await classifyPageReady(page);
  const snippet = await page.getByRole('region', { name: 'Snippet that embeds this page' }).innerText();
  // Another site: another origin (its own port), secure as 127.0.0.1 is, and not cross-origin isolated.
  const site = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>A blog post</title>${snippet}`));
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => void site.close());
  await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  const frame = page.frames().find((f) => f.url().startsWith(`${server.origin}/m/`));
  expect(frame, 'the snippet’s iframe').toBeDefined();
  await within('the embedded page’s start', 120_000, frame!.evaluate(() => window.graftClassify.ready));
  expect(await frame!.evaluate(() => [crossOriginIsolated, isSecureContext])).toEqual([false, true]);
  expect(await frame!.locator('#engine').innerText()).toMatch(/· 1 thread · float32 file\.$/);
  // The photo the TF.js model is surest of.
  const clearest = tfjsMargin.indexOf(Math.max(...tfjsMargin));
  expect((await classifyPhoto(frame!, photos[clearest].path)).top).toBe(tfjsTop[clearest]);
  await page.close();
});

it('runs the int8 file on pixel bytes where the publication says so', async () => {
  const page = (await visit(chrome!.context, `${server.origin}${int8.path}`)).page;
  await classifyPageReady(page);
  expect(await page.locator('#engine').innerText()).toMatch(/· int8 file\.$/);
  const shown: string[] = [];
  for (const photo of photos) shown.push((await classifyPhoto(page, photo.path)).top);
  const agree = shown.filter((top, i) => top === tfjsTop[i]).length;
  console.log(`classify page, int8: ${shown.join(' ')}; agrees with TF.js on ${agree} of ${photos.length}`);
  expect(agree).toBeGreaterThanOrEqual(photos.length * 0.8);
});

it('refuses a model file that fails its hash check, in words', async () => {
  const page = await chrome!.context.newPage();
  await page.route(`**/api/publications/${float32.id}/model-*`, (route) => route.fulfill({ status: 200, body: Buffer.from('not the published model') }));
  await page.goto(`${server.origin}${float32.path}`);
  await expect(page.evaluate(() => window.graftClassify.ready)).rejects.toThrow(/failed its hash check/);
  expect(await page.getByRole('alert').first().innerText()).toMatch(/failed its hash check/);
  expect(await page.getByRole('button', { name: 'Choose an image…' }).isDisabled()).toBe(true);
  await page.close();
});

it('an unknown, malformed or unpublished id gets the plain page, not JSON', async () => {
  const unpublished = await publish(server.origin, publishInput(classifier, 'float32', 'Soon gone'));
  await publicationsApi({ origin: server.origin }).unpublish(unpublished.id, { deleteKey: unpublished.deleteKey });
  for (const path of [unpublished.path, '/m/AAAAAAAAAAAAAAAAAAAAAA', '/m/not-an-id', '/m/']) {
    const page = await chrome!.context.newPage();
    await page.goto(`${server.origin}${path}`);
    await classifyPageReady(page);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('This classifier was unpublished or never existed');
    expect(await page.locator('body').innerText()).not.toMatch(/[{}]/);
    await page.close();
  }
});
