/**
 * The real Graft page for the measurement commands: its server on a seeded state folder, headless Chromium on
 * the built page, booted. The steps eval and bench drive through the page's own classes are the other modules of
 * this folder (session.ts first); progress from the page comes back as log lines.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import { fakeCameraFlags } from '../fake-camera';
import { startGraft } from '../../graft-server';

export interface GraftPage {
  page: Page;
  /** The server's origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * tsx compiles with esbuild's keepNames, which wraps named inner functions in a `__name` helper that exists only
 * in Node: the page gets a no-op one, so functions compiled here run in page.evaluate.
 */
const NAME_HELPER = 'globalThis.__name ??= (fn) => fn;';

/**
 * Starts Graft on `persistTo`, opens its page in headless Chromium and waits for the page to boot. `camera`: a y4m
 * video the browser's fake camera plays (fake-camera.ts). A `profile` folder and a `port` keep the
 * page's IndexedDB from one run to the next (see cache-dir.ts).
 */
export async function openGraftPage(options: {
  persistTo: string;
  webgpu: boolean;
  log: (line: string) => void;
  camera?: string;
  profile?: string;
  port?: number;
  /** wrangler.toml [vars] to override, e.g. { PUBLISH: 'open' }. */
  vars?: Record<string, string>;
}): Promise<GraftPage> {
  const { log } = options;
  const server = await startGraft({ persistTo: options.persistTo, port: options.port, vars: options.vars });
  let chrome: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    chrome = await launchChromium({ webgpu: options.webgpu, args: options.camera ? fakeCameraFlags(options.camera) : [], profile: options.profile });
    await chrome.context.addInitScript(NAME_HELPER);
    // The same comlink the page bundles, for talking to extraction workers the bench starts itself.
    await chrome.context.addInitScript({ path: require.resolve('comlink/dist/umd/comlink.js') });
    const page = await chrome.context.newPage();
    page.on('pageerror', (error) => log(`  page error: ${error.message}`));
    // A failed request is logged with its URL below: the console only says that one failed.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) log(`  page console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) log(`  page request: ${response.status()} ${response.url()}`);
    });
    await page.exposeFunction('graftMeasureLog', (line: string) => log(line));
    await page.goto(`${server.origin}/`);
    await page.evaluate(() => window.graft.ready);
    const opened = chrome;
    return {
      page,
      origin: server.origin,
      async close() {
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await chrome?.close();
    await server.stop();
    throw error;
  }
}
