/**
 * Test, eval and bench harness: runs the real Graft (tools/serve.ts, wrangler's dev environment: the built page
 * plus the API over a local R2) on a free port with its own state folder, and stops it with every process it
 * started.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GraftServerOptions {
  /** State folder, as `wrangler dev --persist-to` takes it (its R2 lives in <persistTo>/v3). */
  persistTo: string;
  /** 0 or undefined: a free port. */
  port?: number;
  /** Makes the admin API usable with this bearer token. */
  adminToken?: string;
  /** wrangler.toml [vars] to override, e.g. { PUBLISH: 'open' }. */
  vars?: Record<string, string>;
}

export interface GraftServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
/** wrangler's output kept for the error message when it fails to start. */
const OUTPUT_TAIL_CHARS = 8_000;

/** The origin in wrangler's `Ready on http://127.0.0.1:<port>` line, once it has printed it. */
function readyOrigin(output: string): string | undefined {
  return /Ready on (http:\/\/[\d.]+:\d+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export async function startGraft(options: GraftServerOptions): Promise<GraftServer> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'client'))) {
    throw new Error('dist/client is missing: the server serves the built page from it. Run `npx vite build` first.');
  }
  // Port 0: workerd binds a port the OS picks, so servers started at once (tests, other checkouts) never race for
  // one that a probe found free a moment earlier. The origin is read from wrangler's "Ready on" line.
  const args = [
    'tsx', 'tools/serve.ts',
    '--ip', '127.0.0.1',
    '--port', String(options.port ?? 0),
    '--persist-to', resolve(options.persistTo),
    ...(options.adminToken ? ['--var', `GRAFT_ADMIN_TOKEN:${options.adminToken}`] : []),
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  // tools/env.sh is the one place that keeps wrangler offline and its caches inside the project.
  const child = spawn('bash', ['-c', 'source tools/env.sh && exec npx "$@"', 'graft-server', ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  let hasExited = false;
  let serving = false;
  let stopping = false;
  void exited.then(() => (hasExited = true));
  // A server that ends on its own mid-run fails every later request with "connection refused": say so, with why.
  child.once('exit', (code, signal) => {
    if (serving && !stopping) process.stderr.write(`Graft's server at ${readyOrigin(output) ?? '(not ready)'} exited on its own (${signal ?? `code ${code}`}); its last output:\n${output}\n`);
  });

  // The negative pid is the whole group (npx, tsx, node, workerd): signalled even when its first process has
  // ended, since the others may still be serving.
  const group = -child.pid!;
  const groupAlive = (): boolean => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(group, name);
    } catch {
      // The group is already gone.
    }
  };
  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.pid === undefined) return;
    signal('SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    signal('SIGKILL');
    await exited;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`Graft's server exited before it answered:\n${output}`);
    const origin = readyOrigin(output);
    if (!origin) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      // Something else may hold the port and never answer: each probe gives up on its own.
      const response = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      if (response.ok) {
        serving = true;
        return { origin, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`Graft's server did not answer GET /api/health within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
}
