/**
 * The bounded waits the browser tests use on Graft's page (`graftReady`, `openGraft`; `within` and the Chromium
 * launcher are the tools' own, tools/measure/).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { within } from '../../tools/measure/within';

/** Longest the page's start may take: above the trainer's 90 s start limit, with room for a retry. */
const START_LIMIT_MS = 180_000;

/** Waits for Graft's start (window.graft.ready); one that does not finish in time fails with what the page shows. */
export async function graftReady(page: Page): Promise<void> {
  try {
    await within("the page's start", START_LIMIT_MS, page.evaluate(() => window.graft.ready));
  } catch (error) {
    const shown = await within(
      'reading the page',
      10_000,
      page.evaluate(() => `state ${window.graft.session.state}; banner: ${document.querySelector('#banner')?.textContent?.trim() || '(empty)'}`),
    ).catch((e: Error) => e.message);
    throw new Error(`${(error as Error).message} (${shown})`);
  }
}

/** Opens Graft at `url` and waits for its start (graftReady). */
export async function openGraft(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await graftReady(page);
}

/** Longest the page takes to draw a finished run's curves, results and gallery (one per frame) on a loaded machine. */
const RESULTS_DRAWN_LIMIT_MS = 10_000;

/** Waits for a finished run's results to be drawn: the page draws the curves, the results and their gallery one per
 * frame after the run ends, the gallery last. */
export async function resultsDrawn(page: Page): Promise<void> {
  await page.locator('#results .gallery > li').first().waitFor({ state: 'attached', timeout: RESULTS_DRAWN_LIMIT_MS });
}

/** Limits a test lowers so that what it holds back is given up in seconds; absent ones keep the product's. */
export interface PageLimits {
  /** A stalled request's try (session.requestStallLimitMs; the product's 10 s). */
  requestStallMs?: number;
  /** One start of the trainer (session.trainer.startLimitMs; the product's 90 s). */
  trainerStartMs?: number;
}

/**
 * A new page whose Graft runs with `limits`: they are set as the page makes its session (window.graft), before the
 * start's first request and before the trainer is made.
 */
export async function pageWithLimits(context: BrowserContext, limits: PageLimits): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((given: PageLimits) => {
    let graft: Window['graft'] | undefined;
    Object.defineProperty(window, 'graft', {
      configurable: true,
      get: () => graft,
      set: (value: Window['graft']) => {
        if (given.requestStallMs !== undefined) value.session.requestStallLimitMs = given.requestStallMs;
        if (given.trainerStartMs !== undefined) value.session.trainer.startLimitMs = given.trainerStartMs;
        graft = value;
      },
    });
  }, limits);
  return page;
}
