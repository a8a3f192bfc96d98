/**
 * Headless Debian Chromium through playwright-core, with the flags this machine needs (no network beyond
 * loopback, no sandbox as root), optionally with WebGPU on SwiftShader (correct but slow: correctness only);
 * and the bounded waits the browser tests use (`within`, `graftReady`, `openGraft`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // performance.measureUserAgentSpecificMemory() answers at once instead of at the next GC (the leak test uses it).
  '--enable-blink-features=ForceEagerMeasureMemory',
];

export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface LaunchOptions {
  webgpu?: boolean;
  /** More flags (e.g. a fake camera's, test/support/fake-camera.ts). */
  args?: string[];
  /** A profile folder the caller keeps (a relaunch on it is the same browser coming back); default: a temp one. */
  profile?: string;
}

/** A persistent profile (in a temp folder unless given), so IndexedDB survives reloads within a test like a real visit. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  const profile = options.profile ?? (await mkdtemp(join(tmpdir(), 'graft-chromium-')));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.webgpu ? WEBGPU_FLAGS : ['--disable-gpu']), ...(options.args ?? [])],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      // A browser that does not close (Playwright's close waits on Chromium without a limit) must not hang the
      // test that passed: its processes, found by their profile folder, are killed instead.
      await within('closing Chromium', CLOSE_LIMIT_MS, context.close()).catch((error: Error) => {
        console.warn(`${error.message}: its processes are killed`);
        return new Promise((resolve) => execFile('pkill', ['-KILL', '-f', `--user-data-dir=${profile}`], () => resolve(undefined)));
      });
      if (!options.profile) await rm(profile, { recursive: true, force: true });
    },
  };
}

const CLOSE_LIMIT_MS = 60_000;

/**
 * `work`, or an error naming `what` once `ms` pass without it settling. For the waits Playwright leaves unbounded
 * (page.evaluate, a download's saveAs, closing a context): a hang fails at its step, with its name, instead of
 * at the test's time limit with none.
 */
export function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

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
