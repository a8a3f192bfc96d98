/**
 * The page's start never waits silently, in headless Chromium against the real `wrangler dev`: each step is held
 * back and the page says what it waits for. A tab holding an older version of the database open blocks the
 * upgrade: the page says to close it, and goes on once it is closed. An open the browser holds without a word (behind
 * another tab's long upgrade) is said after SLOW_OPEN_MS, and taken back once it opens. A Graft tab steps aside for a
 * newer version's upgrade (connection.ts closes on `versionchange`), so the newer tab is not blocked. A catalog or
 * model request that hangs (page.route never answers) is tried again, and named once its tries are spent; one that answers on a later try goes on without a word. Those pages give a stalled try
 * up after STALL_LIMIT_MS instead of the product's STALL_MS: the same tries, pauses and messages, in seconds.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RETRY_DELAYS_MS } from '../../client/api/storage-client';
import { SLOW_OPEN_MS } from '../../client/cache/connection';
import { DB_NAME, DB_VERSION } from '../../client/cache/schema';
import type { ModelRecord } from '../../shared/records';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { within } from '../../tools/measure/within';
import { graftReady, pageWithLimits } from '../support/browser';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';

const TRIES = RETRY_DELAYS_MS.length + 1;
/** How long a held-back request stalls before the page gives its try up, here. */
const STALL_LIMIT_MS = 1_000;
/** Every try of a stalled request, the pauses between them, and room for a loaded machine. */
const ALL_TRIES_MS = TRIES * STALL_LIMIT_MS + RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 60_000;

let graft: SeededGraft;
let chrome: Chromium;
let model: ModelRecord;

beforeAll(async () => {
  graft = await seededGraft([]);
  chrome = await launchChromium();
  [model] = (await (await fetch(`${graft.origin}/api/models`)).json()) as ModelRecord[];
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

const errorBanner = (page: Page) => page.locator('#banner [role=alert]');

/** A page of Graft's origin that is not Graft (a JSON response), where the test opens the database itself. */
async function plainTab(): Promise<Page> {
  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/api/models`);
  return page;
}

it('says an older tab blocks the database, and goes on once it is closed', async () => {
  const older = await plainTab();
  // Version 1's stores, as the first Graft made them, held open by a tab that does not step aside.
  await older.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open(name, 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          const features = db.createObjectStore('features', { keyPath: 'key' });
          features.createIndex('by-model-key', 'modelKey');
          features.createIndex('by-dataset-model', ['datasetId', 'modelKey']);
          features.createIndex('by-dataset-model-view-bytes', ['datasetId', 'modelKey', 'view', 'bytes']);
          db.createObjectStore('checkpoints', { keyPath: 'runId' }).createIndex('summary', ['savedAt', 'runId', 'datasetId', 'modelKey', 'stage', 'epoch']);
          db.createObjectStore('classifiers', { keyPath: 'runId' }).createIndex('summary', ['savedAt', 'runId', 'name', 'classes']);
        };
        request.onsuccess = () => {
          (window as unknown as { held: IDBDatabase }).held = request.result;
          resolve();
        };
        request.onerror = () => reject(request.error);
      }),
    DB_NAME,
  );

  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/`);
  await expect.poll(() => errorBanner(page).innerText(), { timeout: 60_000 }).toContain('Graft is open in another tab with an older version: close it.');

  await older.evaluate(() => (window as unknown as { held: IDBDatabase }).held.close());
  await graftReady(page);
  await expect.poll(() => errorBanner(page).innerText(), { timeout: 30_000 }).toBe('');
  await older.close();
  await page.close();
});

it('says the database has not opened while another tab holds a long upgrade, and goes on once it ends', async () => {
  const upgrading = await plainTab();
  // Another tab upgrades the database and keeps its upgrade going (a request after each answer) until released,
  // then gives it up: the browser queues this page's open behind it without a "blocked" event.
  await within(
    "the other tab's upgrade to begin",
    30_000,
    upgrading.evaluate(
      ({ name, version }) =>
        new Promise<void>((resolve) => {
          const state = window as unknown as { released: boolean };
          state.released = false;
          const request = indexedDB.open(name, version + 1);
          request.onupgradeneeded = () => {
            const upgrade = request.transaction!;
            // A store to keep asking (made here when the database is new: the abort takes it away again).
            const names = upgrade.objectStoreNames;
            const store = names.length > 0 ? upgrade.objectStore(names[0]) : request.result.createObjectStore('held');
            const keepGoing = () => {
              if (state.released) return upgrade.abort();
              store.count().onsuccess = keepGoing;
            };
            keepGoing();
            resolve();
          };
          request.onerror = () => undefined;
        }),
      { name: DB_NAME, version: DB_VERSION },
    ),
  );

  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/`);
  await expect
    .poll(() => errorBanner(page).innerText(), { timeout: SLOW_OPEN_MS + 60_000 })
    .toContain(`The browser has not opened Graft's storage (IndexedDB) within ${SLOW_OPEN_MS / 1000} s`);

  await upgrading.evaluate(() => ((window as unknown as { released: boolean }).released = true));
  await graftReady(page);
  await expect.poll(() => errorBanner(page).innerText(), { timeout: 30_000 }).toBe('');
  expect(await page.evaluate(() => window.graft.session.state)).toBe('idle');
  await upgrading.close();
  await page.close();
});

it('names the catalog request that hangs once its tries are spent', async () => {
  const page = await pageWithLimits(chrome.context, { requestStallMs: STALL_LIMIT_MS });
  let tries = 0;
  // Never answered.
  await page.route('**/api/models', () => void tries++);
  await page.goto(`${graft.origin}/`);
  await expect
    .poll(() => errorBanner(page).innerText(), { timeout: ALL_TRIES_MS })
    .toContain(
      `The server's list of models and datasets could not be loaded: /api/models: no answer for ${STALL_LIMIT_MS / 1000} s (${TRIES} tries). Reload the page to try again.`,
    );
  expect(tries).toBe(TRIES);
  await within("the page's start after the message", 30_000, page.evaluate(() => window.graft.ready));
  await page.close();
});

it('tries a catalog request again when its first try hangs, and goes on without a word', async () => {
  const page = await pageWithLimits(chrome.context, { requestStallMs: STALL_LIMIT_MS });
  let tries = 0;
  await page.route('**/api/models', (route) => (++tries === 1 ? undefined : route.continue()));
  await page.goto(`${graft.origin}/`);
  await graftReady(page);
  expect(tries).toBe(2);
  expect(await errorBanner(page).innerText()).toBe('');
  expect(await page.evaluate(() => window.graft.session.model?.id)).toBe(model.id);
  await page.close();
});

it('names the base model whose download hangs', async () => {
  const page = await pageWithLimits(chrome.context, { requestStallMs: STALL_LIMIT_MS });
  await page.route('**/model.json', () => undefined);
  await page.goto(`${graft.origin}/`);
  await expect
    .poll(() => errorBanner(page).innerText(), { timeout: ALL_TRIES_MS })
    .toContain(
      `The base model “${model.name}” could not be downloaded: /api/models/${encodeURIComponent(model.id)}/model.json: no answer for ${STALL_LIMIT_MS / 1000} s (${TRIES} tries)`,
    );
  await page.close();
});

it('steps aside when a newer version of Graft upgrades the database', async () => {
  const page = await chrome.context.newPage();
  await page.goto(`${graft.origin}/`);
  await graftReady(page);
  const newer = await plainTab();
  const outcome = await within(
    'the newer version opening the database',
    30_000,
    newer.evaluate(
      ([name, version]) =>
        new Promise<{ opened: boolean; blocked: boolean }>((resolve) => {
          let blocked = false;
          const request = indexedDB.open(name, version);
          request.onblocked = () => (blocked = true);
          request.onsuccess = () => {
            request.result.close();
            resolve({ opened: true, blocked });
          };
          request.onerror = () => resolve({ opened: false, blocked });
        }),
      [DB_NAME, DB_VERSION + 1] as const,
    ),
  );
  expect(outcome).toEqual({ opened: true, blocked: false });
  await newer.close();
  await page.close();
});
