/**
 * Headless Debian Chromium through playwright-core, for the tools (eval, bench) and the browser tests, with the
 * flags this machine needs (no network beyond loopback, no sandbox as root), optionally with WebGPU on SwiftShader
 * (correct but slow: correctness only).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { within } from './within';

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
  /** More flags (e.g. a fake camera's, fake-camera.ts). */
  args?: string[];
  /** A profile folder the caller keeps (a relaunch on it is the same browser coming back); default: a temp one. */
  profile?: string;
}

const CLOSE_LIMIT_MS = 60_000;

/** A persistent profile (in a temp folder unless given), so IndexedDB survives reloads like a real visit. */
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
      // run that passed: its processes, found by their profile folder, are killed instead.
      await within('closing Chromium', CLOSE_LIMIT_MS, context.close()).catch((error: Error) => {
        console.warn(`${error.message}: its processes are killed`);
        return new Promise((resolve) => execFile('pkill', ['-KILL', '-f', `--user-data-dir=${profile}`], () => resolve(undefined)));
      });
      if (!options.profile) await rm(profile, { recursive: true, force: true });
    },
  };
}
