/**
 * The classify-only page /m/<id> in headless Chromium, for its browser tests and the bench: every request a visit
 * makes (the page's and its workers'), with its status, the bytes that came over the network, whether the
 * browser's cache answered it, and its body gzipped (what a compressing host sends); the time from navigation to
 * the first prediction of a photo; and classifying a photo as a visitor does (the file input labelled "Classify a
 * photo", the top class read from the role="status" element); and, for the bench, all of that for a classifier it
 * publishes, in a browser with an empty cache.
 */
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Frame, Page, Request, Response } from 'playwright-core';
import { publicationsApi, type PublishInput } from '../../client/api/publications';
import { launchChromium } from './chromium';
import { within } from './within';

export interface VisitRequest {
  url: string;
  status: number;
  /** Response body bytes received over the network, as the server encoded them (0 when the browser's cache answered). */
  bytes: number;
  /** The body's own bytes, uncompressed. */
  bodyBytes: number;
  /** The body gzipped at the default level: what it costs from a host that compresses it. */
  gzipBytes: number;
  /** Answered by the browser's memory or disk cache, without the network. */
  fromCache: boolean;
}

export interface Visit {
  page: Page;
  /** Every request of the visit so far, in the order they finished. */
  requests: VisitRequest[];
  /** Waits until every request started so far has finished. */
  settled(): Promise<void>;
}

/** Longest the page may take to load its classifier, on a loaded 2-core machine. */
const READY_LIMIT_MS = 120_000;
const CLASSIFY_LIMIT_MS = 60_000;

/** Opens `url` in a new page of `context`, recording each request (cache hits seen through the DevTools protocol). */
export async function visit(context: BrowserContext, url: string): Promise<Visit> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const cachedUrls = new Set<string>();
  const urlOf = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => urlOf.set(requestId, request.url));
  // The memory cache answers without a response event of its own; the disk cache's response says so.
  cdp.on('Network.requestServedFromCache', ({ requestId }) => cachedUrls.add(urlOf.get(requestId) ?? ''));
  cdp.on('Network.responseReceived', ({ response }) => {
    if (response.fromDiskCache || response.fromPrefetchCache) cachedUrls.add(response.url);
  });
  const requests: VisitRequest[] = [];
  const pending = new Set<Promise<void>>();
  const record = async (response: Response) => {
    const request = response.request();
    const sizes = await request.sizes().catch(() => ({ responseBodySize: 0 }));
    const body = await response.body().catch(() => Buffer.alloc(0));
    const fromCache = cachedUrls.has(response.url()) || (sizes.responseBodySize === 0 && body.length > 0);
    requests.push({ url: response.url(), status: response.status(), bytes: fromCache ? 0 : sizes.responseBodySize, bodyBytes: body.length, gzipBytes: gzipSync(body).length, fromCache });
  };
  context.on('requestfinished', (request) => {
    if (!ofPage(request, page)) return;
    const done = request.response().then((response) => (response ? record(response) : undefined));
    pending.add(done);
    void done.finally(() => pending.delete(done));
  });
  await page.goto(url);
  return {
    page,
    requests,
    async settled() {
      await page.waitForLoadState('networkidle');
      await Promise.all([...pending]);
    },
  };
}

/** Whether `request` is the page's or one of its workers' (which have no frame: they are the page's if no other page is open). */
function ofPage(request: Request, page: Page): boolean {
  try {
    return request.frame().page() === page;
  } catch {
    return page.context().pages().length === 1;
  }
}

/** Waits for the page's start (its classifier compiled, or the plain page of a missing publication). */
export async function classifyPageReady(page: Page): Promise<void> {
  await within('the classify page\'s start', READY_LIMIT_MS, page.evaluate(() => window.graftClassify.ready));
}

/**
 * Classifies the photo at `path` through the page's file input (the page's own, or in the iframe another site
 * embeds it in): the top class the page shows, and when it showed it (performance.now() of the page, within an
 * animation frame).
 */
export async function classifyPhoto(page: Page | Frame, path: string): Promise<{ top: string; at: number }> {
  // Hidden until the first answer; the page empties it when it takes a photo, so the next text is this photo's.
  await page.locator('[role=status]').evaluate((el) => (el.textContent = ''));
  await page.getByLabel('Classify a photo').setInputFiles(path);
  const shown = await page.waitForFunction(() => document.querySelector('[role=status]')?.textContent !== '' && performance.now(), null, {
    timeout: CLASSIFY_LIMIT_MS,
    polling: 'raf',
  });
  // The page's one status element, shown.
  return { top: (await page.getByRole('status').innerText()).trim(), at: (await shown.jsonValue()) as number };
}

/** Milliseconds from the navigation's start to the first prediction of the photo at `path` (cold if `context` is new). */
export async function firstPrediction(context: BrowserContext, url: string, path: string): Promise<{ ms: number; top: string; visit: Visit }> {
  const opened = await visit(context, url);
  await classifyPageReady(opened.page);
  const { top, at } = await classifyPhoto(opened.page, path);
  return { ms: at, top, visit: opened };
}

/** Requests whose path starts with `prefix` (e.g. '/api/'). */
export const requestsTo = (requests: VisitRequest[], prefix: string) => requests.filter((r) => new URL(r.url).pathname.startsWith(prefix));

/** A first visit's figures: the first prediction, and what came over the network. */
export interface FirstVisit {
  /** Navigation start to the first prediction of a photo shown, cold cache. */
  ms: number;
  top: string;
  requests: number;
  apiRequests: number;
  /** Response bodies uncompressed, gzipped, and as they came over the network from the local server. */
  bytes: number;
  gzipBytes: number;
  networkBytes: number;
}

/**
 * Publishes `input` on the Graft at `origin` (its publishing open) and opens its /m/<id> in a fresh browser (empty
 * profile: nothing cached) to classify the photo at `photo`.
 */
export async function coldFirstVisit(origin: string, input: PublishInput, photo: string): Promise<FirstVisit> {
  const published = await publicationsApi({ origin }).publish(input);
  const browser = await launchChromium();
  try {
    const { ms, top, visit: opened } = await firstPrediction(browser.context, `${origin}${published.path}`, photo);
    await opened.settled();
    const { requests } = opened;
    const sum = (pick: (r: VisitRequest) => number) => requests.reduce((total, r) => total + pick(r), 0);
    return { ms, top, requests: requests.length, apiRequests: requestsTo(requests, '/api/').length, bytes: sum((r) => r.bodyBytes), gzipBytes: sum((r) => r.gzipBytes), networkBytes: sum((r) => r.bytes) };
  } finally {
    await browser.close();
  }
}
