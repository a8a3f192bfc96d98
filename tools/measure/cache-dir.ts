/**
 * eval's --cache-dir: one folder that lets later runs reuse what earlier ones extracted. It keeps the seeded
 * state (R2), Chromium's profile (the page's IndexedDB feature cache: pooled features, cut activations and
 * augmented views, keyed by model, image and augmentation as in any visit) and the server's port: IndexedDB
 * belongs to an origin, and the origin includes the port.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../graft-server';

export interface CacheDir {
  state: string;
  profile: string;
  port: number;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The folder's parts, created when missing; the port of earlier runs when it is still free, else a new one. */
export async function openCacheDir(dir: string, log: (line: string) => void): Promise<CacheDir> {
  const profile = join(dir, 'chromium');
  await mkdir(profile, { recursive: true });
  const portFile = join(dir, 'port');
  const kept = Number((await readFile(portFile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(kept) && kept > 0 && (await isFree(kept))) return { state: join(dir, 'state'), profile, port: kept };
  const port = await freePort();
  if (kept) log(`port ${kept} of ${dir} is taken: the page gets a new origin (port ${port}) and an empty feature cache`);
  await writeFile(portFile, `${port}\n`);
  return { state: join(dir, 'state'), profile, port };
}
