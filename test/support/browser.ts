/**
 * The bounded waits the browser tests use on Graft's page (`graftReady`, `openGraft`; `within` and the Chromium
 * launcher are the tools' own, tools/measure/).
 */
import type { Page } from 'playwright-core';
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
