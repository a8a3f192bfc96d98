/**
 * The trainer's page as a visitor drives it to publish (browser tests): train a small run on a dataset of the
 * server, open "Publish…", fill the form and upload, read the link, the QR code and the delete key it shows, and
 * unpublish from "Your publications". Every wait is bounded and named.
 */
import decodeQR from '@paulmillr/qr/decode.js';
import type { Page } from 'playwright-core';
import { within } from '../../tools/measure/within';
import { resultsDrawn } from './browser';

/** Longest a small run takes on a loaded 2-core machine, extraction included. */
const TRAIN_LIMIT_MS = 600_000;
/** Building and checking both TFLite files (int8 calibrates on the training photos), then the upload. */
const PUBLISH_LIMIT_MS = 300_000;
const STEP_LIMIT_MS = 60_000;

/** Polls `check` until it gives a value other than null/false, or fails after `ms` with `what`. */
export async function until<T>(what: string, ms: number, check: () => Promise<T | null | false>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Picks the dataset `datasetId`, sets the epochs, starts and waits for the run to end; fails unless it is done. */
export async function trainInPage(page: Page, datasetId: string, epochs: { head: number; fineTune: number }): Promise<void> {
  await page.getByText(datasetId).first().click();
  await until('the dataset’s photos', STEP_LIMIT_MS, async () => (await page.locator('#sample-grid img, #sample-grid canvas').count()) > 0);
  await page.getByLabel('Head epochs').fill(String(epochs.head));
  await page.getByLabel('Fine-tune epochs').fill(String(epochs.fineTune));
  const start = page.getByRole('button', { name: 'Start training' });
  await until('Start training enabled', STEP_LIMIT_MS, () => start.isEnabled());
  await start.click();
  await within('training in the page', TRAIN_LIMIT_MS, page.waitForFunction(() => ['done', 'error'].includes(window.graft.session.state), null, { timeout: 0 }));
  const state = await page.evaluate(() => window.graft.session.state);
  if (state !== 'done') throw new Error(`training ended ${state}: ${await page.locator('#banner').innerText()}`);
  await resultsDrawn(page);
}

export interface PublishOptions {
  name?: string;
  description?: string;
  /** Tick "Also upload … of my photos". */
  examples?: boolean;
  /** Typed into the admin token field (admin mode). */
  adminToken?: string;
}

export interface PublishedInPage {
  /** The link's href: <origin>/m/<id>. */
  url: string;
  id: string;
  deleteKey: string;
}

/** Opens "Publish…" (if closed) and fills the form as `options` says. */
export async function fillPublishForm(page: Page, options: PublishOptions = {}): Promise<void> {
  const open = page.getByRole('button', { name: /^Publish/ });
  if ((await open.getAttribute('aria-expanded')) !== 'true') await open.click();
  const form = page.locator('#publish form');
  await form.waitFor({ state: 'visible', timeout: STEP_LIMIT_MS });
  if (options.name !== undefined) await form.getByLabel('Name').fill(options.name);
  if (options.description !== undefined) await form.getByLabel('Description').fill(options.description);
  await form.getByRole('checkbox').setChecked(options.examples ?? false);
  if (options.adminToken !== undefined) {
    const token = form.getByLabel('Admin token');
    await token.waitFor({ state: 'visible', timeout: STEP_LIMIT_MS });
    await token.fill(options.adminToken);
  }
}

/** Presses the upload button and waits for the outcome: the link shown, or the error the form says. */
export async function submitPublish(page: Page): Promise<PublishedInPage | { error: string }> {
  await page.getByRole('button', { name: 'Upload and get the link' }).click();
  return until('the publication (its link, or an error)', PUBLISH_LIMIT_MS, async () => {
    const link = page.locator('#publish-result a[href*="/m/"]');
    if (await link.isVisible()) {
      const url = (await link.getAttribute('href'))!;
      return { url, id: url.slice(url.lastIndexOf('/m/') + 3), deleteKey: (await page.locator('#publish-result .key').innerText()).trim() };
    }
    const error = page.locator('#publish .publish-status.error-text');
    return (await error.isVisible()) ? { error: (await error.innerText()).trim() } : null;
  });
}

/** Publishes the page's classifier; fails with the form's message if it is refused. */
export async function publishFromPage(page: Page, options: PublishOptions = {}): Promise<PublishedInPage> {
  await fillPublishForm(page, options);
  const outcome = await submitPublish(page);
  if ('error' in outcome) throw new Error(`publishing failed: ${outcome.error}`);
  return outcome;
}

/** The text the QR code of the last publication holds, read back from the canvas's pixels. */
export async function readShownQr(page: Page): Promise<string> {
  const image = await page.locator('#publish-result canvas.qr-code').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: data.width, height: data.height, data: Array.from(data.data) };
  });
  return decodeQR(image);
}

/** Unpublishes `name` from "Your publications" (with its confirmation) and waits until it has left the list. */
export async function unpublishFromPage(page: Page, name: string): Promise<string> {
  await page.getByRole('button', { name: `Unpublish ${name}`, exact: true }).click();
  await page.getByRole('button', { name: `Yes, unpublish ${name}`, exact: true }).click();
  const row = page.locator('#publications li', { hasText: name });
  await until(`“${name}” leaving Your publications`, STEP_LIMIT_MS, async () => (await row.count()) === 0);
  return (await page.locator('#publications [role=status]').innerText()).trim();
}

/** The names and links "Your publications" lists, in order. */
export function listedPublications(page: Page): Promise<{ name: string; url: string }[]> {
  return page.locator('#publications li').evaluateAll((items) =>
    items.map((item) => ({ name: item.querySelector('.run-title')?.textContent ?? '', url: item.querySelector('a')?.getAttribute('href') ?? '' })),
  );
}

/** The top class the trainer's page's "Classify a photo" (step 5) gives the photo at `path`. */
export async function classifyInTrainer(page: Page, path: string): Promise<string> {
  const scope = page.locator('#classify');
  const top = scope.locator('[role=status]');
  // Emptied first: the page empties it too when it takes a photo, so the next text is this photo's.
  await top.evaluate((el) => (el.textContent = ''));
  await scope.getByLabel('Classify a photo').setInputFiles(path);
  return until('the trainer page’s top class', STEP_LIMIT_MS, async () => (await top.textContent())?.trim() || null);
}
