/**
 * The real Graft under `wrangler dev` (tools/graft-server.ts), seeded through its admin API with
 * `seed --remote`: the lists, a model tfjs-layers loads over HTTP, shard HEAD and Range, the page's headers.
 * Needs the built page (dist/client): `npx vite build`, which `npm test` runs first.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetRecordOf, type DatasetManifest, type DatasetRecord } from '../../shared/records';
import { startGraft, type GraftServer } from '../../tools/graft-server';
import { serve } from '../../tools/local-server';
import { sha256Hex } from '../../shared/sha256';
import { parseSeedArgs } from '../../tools/ingest/options';
import { seed } from '../../tools/ingest/run';
import { FLOWERS, MODEL_V1, MODEL_V2, linkClassFolders, sampleFiles } from '../support/ingest-fixtures';
import { useBackend } from '../../tools/measure/tf-node';

const MODEL_ID = 'mobilenet_v2_0.35_224_no_top';

async function runSeed(args: string[], token: string) {
  const lines: string[] = [];
  const report = await seed(parseSeedArgs(args)!, (line) => lines.push(line), { ...process.env, GRAFT_ADMIN_TOKEN: token });
  return { report, output: lines.join('\n') };
}

describe('Graft under wrangler dev, seeded through its API', () => {
  const token = randomBytes(16).toString('hex');
  let work: string;
  let server: GraftServer;
  let args: string[];
  let local: Awaited<ReturnType<typeof runSeed>>;
  let first: Awaited<ReturnType<typeof runSeed>>;
  let manifest: DatasetManifest;

  beforeAll(async () => {
    await useBackend('cpu');
    work = await mkdtemp(join(tmpdir(), 'graft-wrangler-dev-'));
    const dataset = join(work, 'flowers-api');
    await linkClassFolders(dataset, FLOWERS, await sampleFiles(FLOWERS, ['dandelion', 'sunflowers'], 5));
    // What a local seed stores (no server running) is what the server then serves.
    local = await runSeed(['--model', MODEL_V1, '--persist-to', join(work, 'state')], '');
    server = await startGraft({ persistTo: join(work, 'state'), adminToken: token });
    args = ['--remote', server.origin, '--model', MODEL_V2, '--dataset', dataset, '--follow-links'];
    first = await runSeed(args, token);
    manifest = first.report.results[1].manifest!;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('stores the model and the dataset through the API, and nothing more on a second run', async () => {
    expect(first.report.results.map((r) => [r.id, r.error, r.storedObjects])).toEqual([
      [MODEL_ID, undefined, 2],
      ['flowers-api', undefined, 2],
    ]);
    expect(first.report.exitCode).toBe(0);
    const second = await runSeed(args, token);
    expect(second.report.results.map((r) => r.storedBytes)).toEqual([0, 0]);
    expect(second.output.match(/stored 0 bytes \(2 objects already present\)/g)).toHaveLength(2);
  });

  it('gives up on a source with a clear message when the server refuses the token', async () => {
    const { report } = await runSeed([...args.slice(0, 2), '--dataset', args[5], '--follow-links', '--dataset-id', 'other-id'], 'not-the-token');
    expect(report.exitCode).toBe(1);
    // The default base model this seed also stores is there already: only the dataset needs the token.
    expect(report.results.map((r) => [r.kind, r.error === undefined])).toEqual([['model', true], ['dataset', false]]);
    expect(report.results[1].error).toMatch(
      new RegExp(`^${server.origin} refused PUT /api/datasets/other-id/shards/shard-[0-9a-f]{32}\\.bin: 401 .+ \\(check GRAFT_ADMIN_TOKEN\\)$`),
    );
  });

  it('lists them in GET /api/models and GET /api/datasets', async () => {
    const models = await (await fetch(`${server.origin}/api/models`)).json();
    expect(models).toEqual([local.report.results[0].record, first.report.results[0].record]);
    const datasets = (await (await fetch(`${server.origin}/api/datasets`)).json()) as DatasetRecord[];
    expect(datasets).toEqual([datasetRecordOf(manifest)]);
    expect(datasets[0]).toMatchObject({ classes: ['dandelion', 'sunflowers'], classCounts: [5, 5] });
  });

  it('serves models that tfjs-layers loads over HTTP, whether seeded through the API or into the local R2', async () => {
    const model = await tfl.loadLayersModel(`${server.origin}/api/models/${MODEL_ID}/model.json`);
    expect(model.layers.length).toBe(155);
    expect(model.outputs[0].shape).toEqual([null, 7, 7, 1280]);
    model.dispose();
    expect(local.report.exitCode).toBe(0);
    const seededLocally = await tfl.loadLayersModel(`${server.origin}/api/models/mobilenet_v1_0.25_224/model.json`);
    expect(seededLocally.layers.length).toBe(88);
    seededLocally.dispose();
  });

  it('answers HEAD on a shard and a Range request with exactly one image', async () => {
    const [shard] = manifest.shards;
    const url = `${server.origin}/api/datasets/flowers-api/shards/${shard.file}`;
    const head = await fetch(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), head.headers.get('accept-ranges')]).toEqual([200, String(shard.bytes), 'bytes']);

    const image = manifest.images[3];
    const last = image.offset + image.length - 1;
    const range = await fetch(url, { headers: { Range: `bytes=${image.offset}-${last}` } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes ${image.offset}-${last}/${shard.bytes}`);
    expect(await sha256Hex(new Uint8Array(await range.arrayBuffer()))).toBe(image.id);
  });

  it('serves the page at / with the cross-origin isolation headers threaded wasm needs', async () => {
    const page = await fetch(`${server.origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(page.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});

describe('startGraft with several servers at once', () => {
  // Tests, eval and bench start servers side by side: each must get its own port without racing the others.
  it('starts three at the same moment, each answering on its own origin', async () => {
    const work = await mkdtemp(join(tmpdir(), 'graft-wrangler-many-'));
    const started = await Promise.allSettled([0, 1, 2].map((i) => startGraft({ persistTo: join(work, `state-${i}`) })));
    try {
      const origins = started.map((s) => {
        if (s.status === 'rejected') throw s.reason;
        return s.value.origin;
      });
      expect(new Set(origins).size).toBe(3);
      for (const origin of origins) expect((await fetch(`${origin}/api/health`)).status).toBe(200);
    } finally {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      await rm(work, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("Graft's server when one request fails on the way to the Worker", () => {
  // wrangler dev's proxy reports a request it could not forward (a browser that left mid-request, on a slow
  // machine) as this message; the `wrangler dev` command then exits and refuses every later request. The race that
  // sends it cannot be started on demand, so the test hands the proxy's controller the message itself.
  it('says so and goes on serving', async () => {
    const work = await mkdtemp(join(tmpdir(), 'graft-serve-'));
    const errors: string[] = [];
    const serving = await serve({ ip: '127.0.0.1', port: 0, persistTo: join(work, 'state'), onError: (reason) => errors.push(reason) });
    try {
      expect((await fetch(`${serving.origin}/api/health`)).status).toBe(200);
      serving.devEnv.proxy.onProxyWorkerMessage({ type: 'error', error: { name: 'Error', message: 'Network connection lost.' } });
      await expect.poll(() => errors).toEqual(['Error inside ProxyWorker: Network connection lost.']);
      expect((await fetch(`${serving.origin}/api/health`)).status).toBe(200);
      expect((await fetch(`${serving.origin}/api/models`)).status).toBe(200);
    } finally {
      await serving.stop();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('startGraft when its first process is gone', () => {
  // The processes it starts form one group: the command, tsx, node and workerd. When the group's first process
  // ends alone (killed, say), the others go on serving; stop() must still end every one of them.
  it('stop() ends the rest of the group: nothing answers on its origin and none of its processes is left', async () => {
    const work = await mkdtemp(join(tmpdir(), 'graft-wrangler-orphans-'));
    const state = join(work, 'state');
    const server = await startGraft({ persistTo: state });
    try {
      const processes = () => execFileSync('ps', ['-eo', 'pid=,pgid=,args=']).toString().split('\n').filter((line) => line.includes(state));
      const pgid = Number(processes()[0].trim().split(/\s+/)[1]);
      expect(pgid).toBeGreaterThan(1);
      process.kill(pgid, 'SIGKILL');
      await expect.poll(() => processes().some((line) => Number(line.trim().split(/\s+/)[0]) === pgid)).toBe(false);
      // The rest of the group still serves.
      expect((await fetch(`${server.origin}/api/health`)).status).toBe(200);
      await server.stop();
      const group = () => execFileSync('ps', ['-eo', 'pgid=']).toString().split('\n').filter((line) => Number(line.trim()) === pgid);
      await expect.poll(group, { timeout: 15_000 }).toEqual([]);
      await expect(fetch(`${server.origin}/api/health`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    } finally {
      await server.stop();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('startGraft when its server cannot start', () => {
  it("fails with the server's own output instead of waiting", async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const work = await mkdtemp(join(tmpdir(), 'graft-wrangler-busy-'));
    try {
      const port = (holder.address() as AddressInfo).port;
      await expect(startGraft({ persistTo: join(work, 'state'), port })).rejects.toThrow(
        new RegExp(`Graft's server exited before it answered:[\\s\\S]*Address already in use \\(127\\.0\\.0\\.1:${port}\\)`),
      );
    } finally {
      holder.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
