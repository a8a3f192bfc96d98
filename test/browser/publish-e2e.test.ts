/**
 * Issue 19's "done when", end to end in headless Chromium against the real `wrangler dev` with PUBLISH=open: a
 * visitor trains a small run in the trainer's page and publishes it from the Publish panel; a fresh browser (its
 * own empty profile: no IndexedDB of the trainer) opens the link and classifies 20 held-out photos with "Classify
 * a photo", each with the top class the trainer's page gives it; Live runs there on Chromium's fake camera; the
 * trainer unpublishes it from "Your publications" and the link then shows the plain page.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { classifyPageReady, classifyPhoto, visit } from '../../tools/measure/classify-page';
import { fakeCameraFlags, writeY4m } from '../../tools/measure/fake-camera';
import { openGraft } from '../support/browser';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { classifyInTrainer, publishFromPage, trainInPage, unpublishFromPage, until, type PublishedInPage } from '../support/publish-flow';

const CLASSES = ['daisy', 'roses', 'sunflowers'];
/** Training photos of each class: the first of its folder; the held-out ones follow them. */
const PER_CLASS = 20;
const HELD_OUT = 20;
const NAME = 'Daisy, rose or sunflower?';

let root: string;
let graft: SeededGraft;
let trainer: Chromium;
let visitor: Chromium | null = null;
let page: Page;
let published: PublishedInPage;
let heldOut: string[];
let video: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-publish-e2e-'));
  const unseen = await Promise.all(
    CLASSES.map(async (name) => {
      const folder = join(SHARED, 'datasets/flowers', name);
      return (await readdir(folder)).sort().slice(PER_CLASS, PER_CLASS + Math.ceil(HELD_OUT / CLASSES.length)).map((file) => join(folder, file));
    }),
  );
  // Taken in turn from each class, 20 in all.
  heldOut = unseen[0].flatMap((_, i) => unseen.map((photos) => photos[i])).filter(Boolean).slice(0, HELD_OUT);
  video = await writeY4m(join(root, 'sunflowers.y4m'), unseen[2]);
  graft = await seededGraft([{ id: 'flowers-e2e', source: 'flowers', perClass: Object.fromEntries(CLASSES.map((c) => [c, PER_CLASS])) }], { vars: { PUBLISH: 'open' } });
  trainer = await launchChromium();
  page = await trainer.context.newPage();
  await openGraft(page, `${graft.origin}/`);
});

afterAll(async () => {
  await visitor?.close();
  await trainer?.close();
  await graft?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

it('trains a small run in the trainer’s page and publishes it from the Publish panel', async () => {
  await trainInPage(page, 'flowers-e2e', { head: 4, fineTune: 0 });
  published = await publishFromPage(page, { name: NAME, description: 'Trained in the browser on 60 photos.' });
  expect(published.url).toMatch(new RegExp(`^${graft.origin}/m/[A-Za-z0-9_-]{22}$`));
});

it('a fresh browser opens the link and classifies 20 held-out photos with the trainer’s page’s top class on every one', async () => {
  const inTrainer: string[] = [];
  for (const photo of heldOut) inTrainer.push(await classifyInTrainer(page, photo));

  visitor = await launchChromium({ args: fakeCameraFlags(video) });
  const opened = await visit(visitor.context, published.url);
  await classifyPageReady(opened.page);
  expect(await opened.page.getByRole('heading', { level: 1 }).innerText()).toBe(NAME);
  const onPublished: string[] = [];
  for (const photo of heldOut) onPublished.push((await classifyPhoto(opened.page, photo)).top);
  const engine = await opened.page.locator('#engine').innerText();
  console.log(`20 held-out photos, trainer's page: ${inTrainer.join(' ')}\n                     published page: ${onPublished.join(' ')}\n${engine}`);
  expect(onPublished).toEqual(inTrainer);
  // A classifier that tells the flowers apart, not one answer for every photo.
  expect(new Set(onPublished).size).toBeGreaterThan(1);
});

it('Live runs on the published page on the fake camera: a class and a frame rate', async () => {
  const livePage = visitor!.context.pages().at(-1)!;
  await livePage.getByRole('button', { name: 'Start the camera' }).click();
  const top = await until('Live’s first classified frame', 60_000, async () => (await livePage.locator('.live-top').innerText()).trim() || null);
  expect(top).toMatch(new RegExp(`^Top class: (${CLASSES.join('|')})$`));
  expect(await until('Live’s frame rate', 30_000, async () => (await livePage.locator('.live-fps').innerText()).trim() || null)).toMatch(/^\d+\.\d frames\/s$/);
  await livePage.getByRole('button', { name: 'Stop' }).click();
});

it('unpublished from the trainer’s page, the link shows the plain page', async () => {
  await unpublishFromPage(page, NAME);
  const again = await visitor!.context.newPage();
  await again.goto(published.url);
  await classifyPageReady(again);
  expect(await again.getByRole('heading', { level: 1 }).innerText()).toBe('This classifier was unpublished or never existed');
});
