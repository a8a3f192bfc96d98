/**
 * Headless Debian Chromium through playwright-core, with the flags this machine needs (no network beyond
 * loopback, no sandbox as root), optionally with WebGPU on SwiftShader (correct but slow: correctness only).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

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

/**
 * A persistent profile, so IndexedDB survives reloads within a test like a real visit: in a temp folder removed on
 * close, or in `options.profile`, kept (eval's --cache-dir: the page's feature cache outlives the run).
 */
export async function launchChromium(options: { webgpu?: boolean; profile?: string } = {}): Promise<Chromium> {
  const profile = options.profile ?? (await mkdtemp(join(tmpdir(), 'graft-chromium-')));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.webgpu ? WEBGPU_FLAGS : ['--disable-gpu'])],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      if (!options.profile) await rm(profile, { recursive: true, force: true });
    },
  };
}
