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

/** A persistent profile in a temp folder, so IndexedDB survives reloads within a test like a real visit. */
export async function launchChromium(options: { webgpu?: boolean; args?: string[] } = {}): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'graft-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.webgpu ? WEBGPU_FLAGS : ['--disable-gpu']), ...(options.args ?? [])],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
