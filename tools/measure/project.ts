/**
 * What both measurement commands (eval, bench) need before they start: the project's environment from
 * tools/env.sh (Chromium and wrangler stay offline and write inside .local/), a built page that is not older
 * than its sources, and a temp folder that goes away whatever happens.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST_CLIENT = join(REPO_ROOT, 'dist', 'client');

/** Progress goes to stderr: stdout ends with the command's JSON line. */
export const logLine = (line: string): void => void process.stderr.write(`${line}\n`);

/** Applies tools/env.sh (the one place that sets these) to this process, for Chromium and wrangler. */
export function loadProjectEnv(): void {
  const result = spawnSync('bash', ['-c', 'source tools/env.sh && env -0'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sourcing tools/env.sh failed: ${result.stderr}`);
  for (const entry of result.stdout.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) process.env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
}

async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((name) => newestChange(join(path, name))));
  return Math.max(info.mtimeMs, ...times);
}

/** Runs `npx vite build` when dist/client is missing or older than what it is built from. */
export async function ensurePageBuilt(log: (line: string) => void): Promise<void> {
  const built = (await stat(join(DIST_CLIENT, 'index.html')).catch(() => null))?.mtimeMs ?? 0;
  const sources = await Promise.all(
    ['client', 'shared', 'vite.config.ts', 'package-lock.json'].map((p) => newestChange(join(REPO_ROOT, p))),
  );
  if (built >= Math.max(...sources)) return;
  log('building the page: npx vite build');
  // The build's own output goes to stderr: stdout is kept for the result.
  const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npx vite build failed (exit code ${result.status})`);
}

/** Runs `body` with a fresh temp folder, removed afterwards. */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
