/**
 * Three test projects:
 * - worker: the API inside workerd (@cloudflare/vitest-pool-workers), through app.request() and SELF;
 * - node: shared code, ingest, cache, farm bookkeeping and the trainer's maths, in Node;
 * - browser: the real page in headless Chromium against the real `wrangler dev` (slow, run last).
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // Fixed here so a developer's .dev.vars (PUBLISH=open, say) never changes what the tests see.
            miniflare: { bindings: { GRAFT_ADMIN_TOKEN: 'test-admin-token', PUBLISH: 'admin', PUBLISH_TTL_DAYS: '30' } },
          }),
        ],
        // vitest's 5 s default is too tight on a machine loaded by other work (a test comparing nine shard
        // downloads took 6.1 s in a fresh-clone CI run); 30 s still names a request that hangs.
        test: { name: 'worker', include: ['test/worker/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // A page's answer to a click can take seconds on a loaded machine: expect.poll's default 1 s failed CI.
          expect: { poll: { timeout: 15_000 } },
        },
      },
    ],
  },
});
