/**
 * Measures how the farm should run LiteRT.js: forward passes alone (random normalised input, outputs read back) on
 * N extraction workers of the real page, the tfjs compiled base against LiteRT.js for each wasm build (relaxed SIMD,
 * compat, threaded) and each batch and thread count asked. Two figures each: wall-clock images/s, and worker CPU
 * milliseconds per image read from Chromium's trace (every thread of the renderer but its main thread: the
 * extraction workers and LiteRT's pthreads), which other programs on a shared machine do not inflate.
 * Measurements only; the last stdout line is one JSON object.
 */
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type * as ComlinkApi from 'comlink';
import { DEFAULT_AUGMENTATION } from '../shared/augmentation';
import type { ExtractorInit, LiteRtSettings } from '../shared/farm';
import type { ExtractWorkerApi } from '../client/farm/extract.worker';
import { openGraftPage } from './measure/graft-page/open';
import { openSession } from './measure/graft-page/session';
import { extractWorkerPath } from './measure/graft-page/predict';
import { parseFlags, runCommand, wholeNumberFlag } from './measure/cli';
import { REPO_ROOT, ensurePageBuilt, loadProjectEnv, logLine, withTempDir } from './measure/project';
import { linkSubset, seedState } from './measure/seed-state';
import { traceTasks } from './measure/main-thread';

const SHARED = resolve(REPO_ROOT, '..', 'shared');

/** CPU milliseconds of the page's workers (LiteRT's pthreads included) between start() and stop(). */
async function traceWorkerCpu(page: Page): Promise<{ stop(): Promise<number> }> {
  const trace = await traceTasks(page, (name) => name === 'DedicatedWorker thread');
  return { stop: async () => (await trace.stop()).reduce((sum, task) => sum + task.cpuMs, 0) };
}

type GridWindow = { Comlink: typeof ComlinkApi; gridRemotes: ComlinkApi.Remote<ExtractWorkerApi>[]; gridWorkers: Worker[] };

async function startWorkers(page: Page, args: { workerPath: string; workers: number; liteRt: LiteRtSettings; modelId: string; fineTuneAt: number | null }) {
  return page.evaluate(async ({ workerPath, workers, liteRt, modelId, augmentation, fineTuneAt }) => {
    const w = window as unknown as GridWindow & { graft: { session: { catalog(): Promise<{ models: ExtractorInit['record'][] }> } } };
    const record = (await w.graft.session.catalog()).models.find((m) => m.id === modelId)!;
    const base = `/api/models/${encodeURIComponent(record.id)}/`;
    const modelJson = (await (await fetch(`${base}model.json`)).json()) as ExtractorInit['artifacts']['modelJson'];
    const parts = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map(async (p) => new Uint8Array(await (await fetch(base + p)).arrayBuffer())));
    const weightData = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (weightData.set(p, o), o + p.length), 0);
    w.gridWorkers = Array.from({ length: workers }, (_, i) => new Worker(workerPath, { type: 'module', name: `graft-grid-${i}` }));
    w.gridRemotes = w.gridWorkers.map((worker) => w.Comlink.wrap<ExtractWorkerApi>(worker));
    const init: ExtractorInit = { backend: 'wasm', threads: 1, artifacts: { modelJson, weightData: weightData.buffer }, record, inputSize: record.inputSize, fineTuneAt, datasetId: 'grid', cutCodec: 'float16', augmentation, engine: 'auto', liteRt };
    return Promise.all(w.gridRemotes.map((r) => r.init(init)));
  }, { ...args, augmentation: DEFAULT_AUGMENTATION });
}

/** One timing of `images` passes per worker: wall images/s over all workers, and worker CPU ms per image. */
async function timeOnce(page: Page, args: { workers: number; images: number; runner: 'compiled' | 'litert'; variant?: { batch: number; threads: number } }) {
  const trace = await traceWorkerCpu(page);
  const seconds = await page.evaluate(
    ({ images, runner, variant }) => Promise.all((window as unknown as GridWindow).gridRemotes.map((r) => r.benchPredict(images, 16, runner, variant ?? undefined))),
    { images: args.images, runner: args.runner, variant: args.variant ?? null },
  );
  const cpu = await trace.stop();
  return { rate: (args.workers * args.images) / Math.max(...seconds), cpuMs: cpu / (args.workers * args.images) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Each LiteRT variant against the tfjs compiled base in pairs (tfjs, variant, tfjs, variant, ...: each pair sees
 * the same load), `rounds` pairs each: the median of the pairs' ratios (LiteRT over tfjs, images/s and CPU ms per
 * image), and the median figures themselves.
 */
async function pairs(page: Page, args: { workers: number; images: number; variants: { batch: number; threads: number }[]; rounds: number }) {
  const out: Record<string, unknown> = {};
  for (const variant of args.variants) {
    const rates: number[] = [];
    const cpus: number[] = [];
    const ratio: number[] = [];
    const cpuRatio: number[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const tfjs = await timeOnce(page, { ...args, runner: 'compiled' });
      const liteRt = await timeOnce(page, { ...args, runner: 'litert', variant });
      rates.push(liteRt.rate);
      cpus.push(liteRt.cpuMs);
      ratio.push(liteRt.rate / tfjs.rate);
      cpuRatio.push(tfjs.cpuMs / liteRt.cpuMs);
      out[`tfjs_b16`] = { rate: [...((out.tfjs_b16 as { rate: number[] })?.rate ?? []), tfjs.rate], cpuMs: [...((out.tfjs_b16 as { cpuMs: number[] })?.cpuMs ?? []), tfjs.cpuMs] };
    }
    out[`litert_b${variant.batch}_t${variant.threads}`] = { rate: median(rates), cpuMs: median(cpus), speedup: median(ratio), cpuSpeedup: median(cpuRatio) };
  }
  const tfjs = out.tfjs_b16 as { rate: number[]; cpuMs: number[] };
  out.tfjs_b16 = { rate: median(tfjs.rate), cpuMs: median(tfjs.cpuMs) };
  return out;
}

async function grid(root: string, argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { workers: { type: 'string' }, images: { type: 'string' }, batches: { type: 'string' }, builds: { type: 'string' }, rounds: { type: 'string' }, 'head-only': { type: 'boolean' } });
  const workerCounts = (flags.workers ?? '2').split(',').map(Number);
  const images = wholeNumberFlag(flags.images, 'images', 1) ?? 32;
  const batches = (flags.batches ?? '1,4,16').split(',').map(Number);
  const builds = (flags.builds ?? 'relaxed-simd,compat,threaded').split(',');
  const rounds = wholeNumberFlag(flags.rounds, 'rounds', 1) ?? 3;
  await ensurePageBuilt(logLine);
  const subset = await linkSubset(join(root, 'flowers'), join(SHARED, 'datasets', 'flowers'), 2);
  const seeded = await seedState(join(root, 'state'), subset, join(SHARED, 'models', 'mobilenet_v2_0.35_224_no_top'), logLine);
  const graft = await openGraftPage({ persistTo: join(root, 'state'), webgpu: false, log: () => {} });
  const rows: Record<string, unknown>[] = [];
  try {
    const session = await openSession(graft.page, { datasetId: seeded.datasetId, modelId: seeded.modelId!, backend: 'wasm' });
    const workerPath = await extractWorkerPath();
    for (const workers of workerCounts) {
      for (const build of builds) {
        const threads = build === 'threaded' ? session.hardwareConcurrency : 1;
        const liteRt: LiteRtSettings = { batch: 1, threads, relaxedSimd: build !== 'compat' };
        const reports = await startWorkers(graft.page, { workerPath, workers, liteRt, modelId: seeded.modelId!, fineTuneAt: flags['head-only'] ? null : 100 });
        const row: Record<string, unknown> = { workers, build, reported: reports.map((b) => (b.liteRt ? `${b.liteRt.build}/${b.liteRt.threads}` : `tfjs (${b.notes.join('; ')})`)).join(' ') };
        const variants = batches.map((batch) => ({ batch, threads }));
        if (build === 'threaded') variants.push({ batch: 1, threads: 1 });
        if (reports.every((r) => r.liteRt)) Object.assign(row, await pairs(graft.page, { workers, images, variants, rounds }));
        await graft.page.evaluate(() => (window as unknown as GridWindow).gridWorkers.forEach((w) => w.terminate()));
        console.log(JSON.stringify(row));
        rows.push(row);
      }
    }
  } finally {
    await graft.close();
  }
  console.log(JSON.stringify(rows));
}

await runCommand('litert-grid', async () => {
  loadProjectEnv();
  await withTempDir('graft-litert-grid-', (root) => grid(root, process.argv.slice(2)));
}, { stack: true });
