/**
 * The farm's forward pass on LiteRT.js, in headless Chromium against the real `wrangler dev`: the features and cut
 * activations LiteRT gives real photos equal the tfjs compiled base's within 1e-4 of each output's scale (so the
 * cache, whose keys name no engine, stays valid across engines); and the fallbacks: LiteRT's files blocked, or a
 * LiteRT worker killed mid-run, leave the run on tfjs with the reason on the page and every image extracted once.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ComlinkApi from 'comlink';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import type { BackendChoice, BackendReport, EngineChoice, ExtractorInit, LiteRtSettings } from '../../shared/farm';
import type { ExtractWorkerApi } from '../../client/farm/extract.worker';
import { LITERT_SETTINGS } from '../../client/farm/farm';
import { extractWorkerPath } from '../../tools/measure/graft-page/predict';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { within } from '../../tools/measure/within';
import { openGraft } from '../support/browser';
import { MODEL_V2, MODEL_V2_ID, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { getAllRecords } from '../support/raw-idb';
import { listClassFolder, FLOWERS_DIR } from '../support/node-features';

const require = createRequire(import.meta.url);
const PER_CLASS = 12;
const IMAGES = 5 * PER_CLASS;
/** Photos both engines run in the equality test. */
const COMPARED = 10;
/** What the cache may hold from either engine: |LiteRT - tfjs| over the output's largest |value|. */
const TOLERANCE = 1e-4;

let graft: SeededGraft;
let chrome: Chromium;
let unfoldable: string;

/** The id of MobileNetV2 with a layer fold-model.ts cannot express (its first ReLU6 made a ReLU capped at 5). */
const UNFOLDABLE_ID = 'mobilenet-v2-relu5';

/** MobileNetV2's folder with Conv1_relu's max_value 6 made 5: tfjs's layers model runs it, fold-model.ts refuses it. */
async function unfoldableModel(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'graft-unfoldable-')), UNFOLDABLE_ID);
  const json = JSON.parse(await readFile(join(MODEL_V2, 'model.json'), 'utf8'));
  const topology = json.modelTopology.model_config ?? json.modelTopology;
  const relu = topology.config.layers.find((l: { config: { name: string } }) => l.config.name === 'Conv1_relu');
  relu.config.max_value = 5;
  await mkdir(dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
  for (const file of await readdir(MODEL_V2)) if (file !== 'model.json') await symlink(join(MODEL_V2, file), join(dir, file));
  return dir;
}

beforeAll(async () => {
  unfoldable = await unfoldableModel();
  graft = await seededGraft([{ id: 'flowers-60', source: 'flowers', perClass: Object.fromEntries(['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'].map((c) => [c, PER_CLASS])) }], {
    extraModels: [unfoldable],
  });
  chrome = await launchChromium();
  // The same comlink the page bundles, for talking to an extraction worker the test starts itself.
  await chrome.context.addInitScript({ path: require.resolve('comlink/dist/umd/comlink.js') });
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
  if (unfoldable) await rm(join(unfoldable, '..'), { recursive: true, force: true });
});

interface StoredFeature {
  imageId: string;
  modelKey: string;
  tensors: Float32Array[];
}

/** Every feature record in the page's IndexedDB, read with the raw API, float32 values. */
async function storedFeatures(page: Page): Promise<StoredFeature[]> {
  const records = await getAllRecords(page, 'features');
  return records.map((r) => {
    expect(r.tensors.every((t) => t.codec === 'float32')).toBe(true);
    return { imageId: r.imageId, modelKey: r.modelKey, tensors: r.tensors.map((t) => new Float32Array(t.data)) };
  });
}

/**
 * Starts one extraction worker of the built page on `engine` (pooled features and, for fine_tune_at 100, the cut
 * activations stored as float32), extracts `photos` into the page's cache and stops the worker.
 */
function extractWith(
  page: Page,
  args: { workerPath: string; engine: EngineChoice; photos: { imageId: string; base64: string }[]; backend?: BackendChoice; liteRt?: LiteRtSettings },
): Promise<BackendReport> {
  return within(
    `extracting on ${args.engine}`,
    180_000,
    page.evaluate(
      async ({ workerPath, engine, photos, augmentation, liteRt, backend, modelId }) => {
        const Comlink = (window as unknown as { Comlink: typeof ComlinkApi }).Comlink;
        const { models } = await window.graft.session.catalog();
        const record = models.find((m) => m.id === modelId)!;
        const base = `/api/models/${encodeURIComponent(record.id)}/`;
        const modelJson = (await (await fetch(`${base}model.json`)).json()) as ExtractorInit['artifacts']['modelJson'];
        const parts = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map(async (path) => new Uint8Array(await (await fetch(base + path)).arrayBuffer())));
        const weightData = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
        parts.reduce((offset, part) => (weightData.set(part, offset), offset + part.length), 0);
        const worker = new Worker(workerPath, { type: 'module', name: `graft-test-${engine}` });
        try {
          const remote = Comlink.wrap<ExtractWorkerApi>(worker);
          const report = await remote.init({
            backend,
            threads: 1,
            artifacts: { modelJson, weightData: weightData.buffer },
            record,
            inputSize: record.inputSize,
            fineTuneAt: 100,
            datasetId: 'engines',
            cutCodec: 'float32',
            augmentation,
            engine,
            liteRt,
          });
          const bytes = (base64: string) => new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
          const result = await remote.extract(photos.map((p) => ({ key: p.imageId, imageId: p.imageId, views: [0], bytes: bytes(p.base64) })));
          if (result.done.length !== photos.length) throw new Error(`extracted ${result.done.length} of ${photos.length}: ${JSON.stringify(result.failed)}`);
          return report;
        } finally {
          worker.terminate();
        }
      },
      { ...args, augmentation: DEFAULT_AUGMENTATION, liteRt: args.liteRt ?? LITERT_SETTINGS, backend: args.backend ?? 'wasm', modelId: MODEL_V2_ID },
    ),
  );
}

/** Per output (pooled, then each cut tensor), the largest |stored - reference| over that output's largest |value|. */
function largestRelativeDifferences(reference: StoredFeature[], stored: StoredFeature[]): number[] {
  // Per photo: one pooled record (1 tensor) and one cut record (block_11_expand and block_10_project_BN).
  expect(stored).toHaveLength(reference.length);
  const worst: number[] = [];
  for (const expected of reference) {
    const actual = stored.find((r) => r.imageId === expected.imageId && r.modelKey === expected.modelKey)!;
    expect(actual.tensors.map((t) => t.length)).toEqual(expected.tensors.map((t) => t.length));
    const first = expected.tensors.length === 1 ? 0 : 1;
    expected.tensors.forEach((values, k) => {
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < values.length; i++) {
        scale = Math.max(scale, Math.abs(values[i]));
        diff = Math.max(diff, Math.abs(values[i] - actual.tensors[k][i]));
      }
      expect(scale).toBeGreaterThan(0.1);
      worst[first + k] = Math.max(worst[first + k] ?? 0, diff / scale);
    });
  }
  return worst;
}

/** `count` real flower photos (an even spread of each class) as the bytes the farm gets. */
async function flowerPhotos(count: number): Promise<{ imageId: string; base64: string }[]> {
  const sample = (await listClassFolder(FLOWERS_DIR, { perClass: count / 5 })).images;
  return Promise.all(sample.map(async (image) => ({ imageId: image.id, base64: (await readFile(image.path)).toString('base64') })));
}

describe('LiteRT.js against the tfjs compiled base', () => {
  it('gives real photos the same pooled features and cut activations within 1e-4 of their scale', async () => {
    const photos = await flowerPhotos(COMPARED);
    const page = await chrome.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.evaluate(() => window.graft.session.clearCache());
    const workerPath = await extractWorkerPath();

    const onTfjs = await extractWith(page, { workerPath, engine: 'tfjs', photos });
    expect(onTfjs.liteRt).toBeUndefined();
    const reference = await storedFeatures(page);
    // The same cache keys: the engine is not part of them, so the LiteRT run overwrites these records.
    const onLiteRt = await extractWith(page, { workerPath, engine: 'auto', photos });
    expect(onLiteRt.liteRt).toEqual({ accelerator: 'wasm', build: 'relaxed-simd', threads: 1, batch: LITERT_SETTINGS.batch });
    const stored = await storedFeatures(page);
    await page.close();

    const worst = largestRelativeDifferences(reference, stored);
    console.log(`LiteRT (wasm) vs tfjs compiled base, largest relative difference: pooled ${worst[0].toExponential(2)}, cut ${worst.slice(1).map((d) => d.toExponential(2)).join(' / ')}`);
    expect(reference).toHaveLength(2 * COMPARED);
    for (const relative of worst) expect(relative).toBeLessThanOrEqual(TOLERANCE);
  });

  it("on WebGPU (SwiftShader): LiteRT's WebGPU accelerator runs only where it matches tfjs, else LiteRT's wasm with the reason", async () => {
    // SwiftShader runs WebGPU on the CPU: correct but slow, so four photos; correctness only.
    const gpu = await launchChromium({ webgpu: true });
    try {
      await gpu.context.addInitScript({ path: require.resolve('comlink/dist/umd/comlink.js') });
      const page = await gpu.context.newPage();
      await openGraft(page, `${graft.origin}/`);
      const photos = await flowerPhotos(5);
      const workerPath = await extractWorkerPath();
      const onTfjs = await extractWith(page, { workerPath, engine: 'tfjs', photos, backend: 'wasm' });
      expect(onTfjs.liteRt).toBeUndefined();
      const reference = await storedFeatures(page);
      const report = await extractWith(page, { workerPath, engine: 'auto', photos, backend: 'webgpu' });
      const stored = await storedFeatures(page);
      await page.close();
      console.log(`LiteRT with WebGPU allowed: ${JSON.stringify(report.liteRt)}; notes: ${report.notes.join(' | ')}`);
      expect(report.liteRt).toBeDefined();
      if (report.liteRt!.accelerator === 'wasm') expect(report.notes.join(' ')).toMatch(/LiteRT\.js .*WebGPU/);
      const worst = largestRelativeDifferences(reference, stored);
      console.log(`LiteRT (${report.liteRt!.accelerator}) vs tfjs wasm, largest relative difference: ${worst.map((d) => d.toExponential(2)).join(' / ')}`);
      for (const relative of worst) expect(relative).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await gpu.close();
    }
  });
});

interface FarmOutcome {
  done: number;
  total: number;
  failed: number;
  perWorker: number[];
  restarted: boolean;
  reports: BackendReport[];
  /** The extraction panel's notes and workers table, as the visitor reads them. */
  panel: string;
  stored: number;
}

/** The page's own farm (2 workers, no augmentation) on the 60 photos with base `modelId`; kills worker 0 after `killAfter` images. */
async function farmRun(page: Page, killAfter: number | null, modelId = MODEL_V2_ID): Promise<FarmOutcome> {
  await openGraft(page, `${graft.origin}/`);
  await page.evaluate(() => window.graft.session.clearCache());
  const outcome = await within(
    'the farm run',
    300_000,
    page.evaluate(async ({ killAfter, modelId }) => {
      const s = window.graft.session;
      const { models } = await s.catalog();
      await s.chooseDataset('flowers-60');
      await s.chooseModel(models.find((m) => m.id === modelId)!, 'wasm');
      const settings = { seed: 7, split: { validation: 0.2, test: 0 }, optimizer: 'adam', learningRate: 1e-3, batchSize: 32, headEpochs: 1, fineTuneEpochs: 0, fineTuneAt: 100, fineTuneLrDivisor: 10, dropout: 0.2, hiddenUnits: 0, augmentViews: 0, workers: 2, backend: 'wasm', inputSize: 224, maxChunkSize: 8 };
      const plan = await s.plan(settings as never);
      let killed = false;
      s.on('extract', (p) => {
        if (killAfter !== null && !killed && p.scheduler.done >= killAfter && p.workers[0]?.report?.liteRt) {
          killed = true;
          s.farm!.terminateWorker(0);
        }
      });
      const progress = await s.extract(plan, new AbortController().signal);
      const panel = document.getElementById('extraction-progress')!;
      return {
        done: progress?.scheduler.done ?? 0,
        total: progress?.scheduler.total ?? 0,
        failed: progress?.scheduler.failed.length ?? 0,
        perWorker: progress?.workers.map((w) => w.done) ?? [],
        restarted: (progress?.scheduler.workers.length ?? 0) > (progress?.workers.length ?? 0),
        reports: progress?.workers.flatMap((w) => (w.report ? [w.report] : [])) ?? [],
        panel: `${panel.querySelector('.notes')?.textContent ?? ''} | ${panel.querySelector('.workers-table')?.textContent ?? ''}`,
      };
    }, { killAfter, modelId }),
  );
  const stored = (await getAllRecords(page, 'features')).length;
  return { ...outcome, stored };
}

describe('the farm falls back to tfjs', () => {
  it('runs on LiteRT.js when nothing fails, and says so', async () => {
    const page = await chrome.context.newPage();
    const outcome = await farmRun(page, null);
    expect(outcome.done).toBe(IMAGES);
    expect(outcome.reports.map((r) => r.liteRt?.accelerator)).toEqual(['wasm', 'wasm']);
    expect(outcome.panel).toContain('LiteRT.js WASM · relaxed SIMD · 1 thread');
    await page.close();
  });

  it("when LiteRT's files cannot be fetched: every worker runs tfjs, the page says why, every image is extracted", async () => {
    const page = await chrome.context.newPage();
    const blocked: string[] = [];
    await page.route('**/litert/**', (route) => {
      blocked.push(route.request().url());
      return route.abort('failed');
    });
    const outcome = await farmRun(page, null);
    expect(blocked.length).toBeGreaterThan(0);
    expect(outcome.done).toBe(IMAGES);
    expect(outcome.failed).toBe(0);
    expect(outcome.stored).toBe(IMAGES);
    expect(outcome.reports).toHaveLength(2);
    for (const report of outcome.reports) {
      expect(report.liteRt).toBeUndefined();
      expect(report.notes.join(' ')).toMatch(/LiteRT\.js did not load/);
    }
    expect(outcome.panel).toMatch(/LiteRT\.js did not load.*: running on TF\.js WASM\./);
    await page.close();
  });

  it('when a LiteRT worker dies mid-run: its replacement runs tfjs, with the reason, and no image is lost or extracted twice', async () => {
    const page = await chrome.context.newPage();
    const outcome = await farmRun(page, 16);
    expect(outcome.restarted).toBe(true);
    expect(outcome.done).toBe(IMAGES);
    expect(outcome.failed).toBe(0);
    expect(outcome.perWorker.reduce((a, b) => a + b, 0)).toBe(IMAGES);
    expect(outcome.stored).toBe(IMAGES);
    const [replaced, other] = outcome.reports;
    expect(replaced.liteRt).toBeUndefined();
    expect(replaced.notes[0]).toBe('extraction worker 0 stopped while LiteRT.js ran (terminated on request), so its replacement runs TF.js');
    expect(other.liteRt?.accelerator).toBe('wasm');
    expect(outcome.panel).toContain('Extraction worker 0 stopped while LiteRT.js ran (terminated on request), so its replacement runs TF.js: running on TF.js WASM (worker 0).');
    await page.close();
  });

  it('when a layer cannot be written to the file: the error names the layer, and every worker runs the tfjs layers model', async () => {
    const page = await chrome.context.newPage();
    const outcome = await farmRun(page, null, UNFOLDABLE_ID);
    expect(outcome.done).toBe(IMAGES);
    expect(outcome.failed).toBe(0);
    expect(outcome.stored).toBe(IMAGES);
    for (const report of outcome.reports) {
      expect(report.liteRt).toBeUndefined();
      expect(report.notes).toContain(
        "the base cannot be compiled (layer 'Conv1_relu' (ReLU): only ReLU and ReLU6 fold (max_value 5, negative_slope 0, threshold 0)), so neither LiteRT.js nor the compiled base runs it: TF.js runs the layers model",
      );
    }
    expect(outcome.panel).toContain("layer 'Conv1_relu' (ReLU)");
    await page.close();
  });

  it('when LiteRT cannot compile the file (a batch too large for wasm memory): tfjs runs the batch, with the reason', async () => {
    const page = await chrome.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.evaluate(() => window.graft.session.clearCache());
    const photos = await flowerPhotos(5);
    // 4096 images of 224 px: activations of tens of gigabytes, past what a wasm heap can hold.
    const report = await extractWith(page, { workerPath: await extractWorkerPath(), engine: 'auto', photos, liteRt: { ...LITERT_SETTINGS, batch: 4096 } });
    expect(report.liteRt).toBeUndefined();
    expect(report.notes).toHaveLength(1);
    expect(report.notes[0]).toMatch(/^LiteRT\.js could not compile the model: [^\n]+ \(WASM\)$/);
    expect(await getAllRecords(page, 'features')).toHaveLength(2 * photos.length);
    await page.close();
  });
});
