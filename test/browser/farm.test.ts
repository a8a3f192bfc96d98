/**
 * The worker farm in a real browser: headless Chromium on the page served by the real `wrangler dev`, its local
 * R2 seeded from ../shared. Extraction of 210 real flower photos with 2 workers, checked against the same
 * features computed in Node on the cpu backend; resume after a reload; a worker killed mid-run; memory per
 * batch; WebGPU (SwiftShader) against WASM; and no long tasks on the main thread.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureKey } from '../../client/cache/keys';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { openGraft } from '../support/browser';
import { busyForLong, traceMainThread, type MainThreadTask } from '../../tools/measure/main-thread';
import { seededGraft, type SeededGraft } from '../support/graft-fixture';
import { getRecords } from '../support/raw-idb';
import { extractFeatures, listClassFolder, FLOWERS_DIR } from '../support/node-features';
import { useBackend } from '../../tools/measure/tf-node';

const PER_CLASS = 42;
const FLOWERS = { daisy: PER_CLASS, dandelion: PER_CLASS, roses: PER_CLASS, sunflowers: PER_CLASS, tulips: PER_CLASS };

let graft: SeededGraft;
let chrome: Chromium;

beforeAll(async () => {
  graft = await seededGraft([
    { id: 'flowers-210', source: 'flowers', perClass: FLOWERS },
    { id: 'flowers-4', source: 'flowers', perClass: { daisy: 2, roses: 2 } },
  ]);
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
});

/** Settings for extraction only: no augmentation, pooled bottleneck features. */
const SETTINGS = {
  seed: 7,
  split: { validation: 0.2, test: 0 },
  optimizer: 'adam',
  learningRate: 1e-3,
  batchSize: 32,
  headEpochs: 1,
  fineTuneEpochs: 0,
  fineTuneAt: 100,
  fineTuneLrDivisor: 10,
  dropout: 0.2,
  hiddenUnits: 0,
  augmentViews: 0,
  workers: 2,
  backend: 'wasm',
  inputSize: 224,
  maxChunkSize: 16,
};

interface ExtractionOutcome {
  extracted: boolean;
  done: number;
  total: number;
  failed: number;
  forwardPasses: number;
  perWorker: number[];
  restarted: boolean;
  reports: { backend: string; simd: boolean; threads: number }[];
  memory: { worker: number; batch: number; numTensors: number; numBytes: number; jsHeapBytes: number | null }[];
  /** JS memory of the extraction worker (measureUserAgentSpecificMemory) when it finished the given batches. */
  workerHeap: Record<number, number>;
  /** With pauseAfter: images done when paused, images in flight then, and images done a second later. */
  pause: { done: number; inFlight: number; doneAfterWaiting: number } | null;
  pooledKey: string;
  imageIds: string[];
  /** Main-thread tasks that used 50 ms of CPU or more while it ran. */
  busyTasks: MainThreadTask[];
}

/** Opens the page, picks dataset + model, and runs one extraction in it; optionally kills worker 0 mid-run. */
async function extractInPage(
  page: Page,
  datasetId: string,
  settings: object,
  killAfter: number | null = null,
  measureHeapAt: number[] = [],
  pauseAfter: number | null = null,
): Promise<ExtractionOutcome> {
  await openGraft(page, `${graft.origin}/`);
  const mainThread = await traceMainThread(page);
  const outcome = await page.evaluate(
    async ({ datasetId, settings, killAfter, measureHeapAt, pauseAfter }) => {
      const s = window.graft.session;
      const { models } = await s.catalog();
      await s.chooseDataset(datasetId);
      const record = models[0];
      await s.chooseModel(record, (settings as { backend: 'wasm' }).backend);
      const plan = await s.plan(settings as never);
      let killed = false;
      const heap: Promise<[number, number]>[] = [];
      const workerBytes = async (batch: number): Promise<[number, number]> => {
        const measured = await (performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ breakdown: { bytes: number; attribution: { url: string }[] }[] }> }).measureUserAgentSpecificMemory();
        const own = measured.breakdown.filter((b) => b.attribution.some((a) => /extract\.worker/.test(a.url)));
        return [batch, own.reduce((sum, b) => sum + b.bytes, 0)];
      };
      let pause: Promise<{ done: number; inFlight: number; doneAfterWaiting: number }> | null = null;
      s.on('extract', (p) => {
        if (pauseAfter !== null && !pause && p.scheduler.done >= pauseAfter) {
          const farm = s.farm!;
          const { done, leased } = p.scheduler;
          pause = new Promise((resolve) =>
            setTimeout(() => {
              const doneAfterWaiting = s.lastExtraction!.scheduler.done;
              farm.resume();
              resolve({ done, inFlight: leased, doneAfterWaiting });
            }, 1500),
          );
          farm.pause();
        }
        const batches = s.farm?.memoryLog.length ?? 0;
        if (measureHeapAt.includes(batches) && heap.length < measureHeapAt.indexOf(batches) + 1) heap.push(workerBytes(batches));
        if (killAfter !== null && !killed && p.scheduler.done >= killAfter) {
          killed = true;
          s.farm!.terminateWorker(0);
        }
      });
      const progress = await s.extract(plan, new AbortController().signal);
      return {
        extracted: progress !== null,
        done: progress?.scheduler.done ?? 0,
        total: progress?.scheduler.total ?? 0,
        failed: progress?.scheduler.failed.length ?? 0,
        forwardPasses: progress?.forwardPasses ?? 0,
        perWorker: progress?.workers.map((w) => w.done) ?? [],
        restarted: (progress?.scheduler.workers.length ?? 0) > (progress?.workers.length ?? 0),
        reports: progress?.workers.flatMap((w) => (w.report ? [w.report] : [])) ?? [],
        memory: s.farm?.memoryLog ?? [],
        workerHeap: Object.fromEntries(await Promise.all(heap)),
        pause: pause ? await pause : null,
        pooledKey: plan.run.pooledKey,
        imageIds: plan.dataset.images.map((i) => i.imageId),
      };
    },
    { datasetId, settings, killAfter, measureHeapAt, pauseAfter },
  );
  return { ...outcome, busyTasks: busyForLong(await mainThread.stop()) };
}

/** Pooled features as stored in the page's IndexedDB (read with the raw API, not our code). */
async function storedFeatures(page: Page, keys: string[]): Promise<(number[] | null)[]> {
  const records = await getRecords(page, 'features', keys);
  return records.map((r) => (r && r.tensors[0].codec === 'float32' ? Array.from(new Float32Array(r.tensors[0].data)) : null));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('feature extraction in the browser', () => {
  let first: ExtractionOutcome;

  it('extracts 210 real photos with 2 workers into IndexedDB, equal to Node cpu features', async () => {
    const page = await chrome.context.newPage();
    const weightRequests: string[] = [];
    page.on('request', (request) => {
      if (/\/api\/models\/[^/]+\/weights-/.test(request.url())) weightRequests.push(request.url());
    });
    first = await extractInPage(page, 'flowers-210', SETTINGS);
    // The page downloads the base once and hands it to its 2 farm workers and its trainer.
    expect(weightRequests).toHaveLength(1);
    expect(first.total).toBe(210);
    expect(first.done).toBe(210);
    expect(first.failed).toBe(0);
    expect(first.forwardPasses).toBe(210);
    expect(first.perWorker).toHaveLength(2);
    for (const done of first.perWorker) expect(done).toBeGreaterThan(0);
    expect(first.reports.every((r) => r.backend === 'wasm' && r.simd)).toBe(true);
    // The main thread stays responsive: no long task while the farm works.
    expect(first.busyTasks).toEqual([]);

    const stored = await storedFeatures(page, first.imageIds.map((id) => featureKey(first.pooledKey, id, 0)));
    expect(stored.filter((f) => f !== null)).toHaveLength(210);

    // The same images in Node, cpu backend, same model and preprocessing (only the JPEG decoder differs).
    const folder = await listClassFolder(FLOWERS_DIR);
    const byId = new Map(folder.images.map((i) => [i.id, i]));
    const sample = first.imageIds.filter((_, i) => i % 21 === 0).map((id) => byId.get(id)!);
    expect(sample).toHaveLength(10);
    await useBackend('cpu');
    const reference = await extractFeatures({ images: sample, inputSize: 224 });
    const inPage = await storedFeatures(page, sample.map((i) => featureKey(first.pooledKey, i.id, 0)));
    const diffs = sample.map((_, i) => maxAbsDiff(inPage[i]!, reference.pooled[0][i]));
    console.log(`browser wasm vs node cpu, max abs diff per image: ${diffs.map((d) => d.toExponential(2)).join(' ')}`);
    // What the README claims: the page's features equal Node's within 4e-5 (pooled features are ~0..3).
    for (const diff of diffs) expect(diff).toBeLessThan(4e-5);
    await page.close();
  });

  it('does no forward pass for cached images after a reload', async () => {
    const page = await chrome.context.newPage();
    const again = await extractInPage(page, 'flowers-210', SETTINGS);
    expect(again.extracted).toBe(false);
    expect(again.forwardPasses).toBe(0);
    await page.close();
  });

  it('gets every image done exactly once when a worker is terminated mid-run', async () => {
    const page = await chrome.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.evaluate(() => window.graft.session.clearCache());
    const outcome = await extractInPage(page, 'flowers-210', SETTINGS, 40);
    expect(outcome.restarted).toBe(true);
    expect(outcome.done).toBe(210);
    expect(outcome.failed).toBe(0);
    // Credited once each: the workers' counts add up to the images, not more.
    expect(outcome.perWorker.reduce((a, b) => a + b, 0)).toBe(210);
    const stored = await storedFeatures(page, outcome.imageIds.map((id) => featureKey(outcome.pooledKey, id, 0)));
    expect(stored.filter((f) => f !== null)).toHaveLength(210);
    await page.close();
  });

  it('pauses and resumes: nothing new starts while paused, and the run still completes', async () => {
    const page = await chrome.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.evaluate(() => window.graft.session.clearCache());
    const outcome = await extractInPage(page, 'flowers-210', SETTINGS, null, [], 30);
    const pause = outcome.pause!;
    // Chunks already handed out may finish; no new one is handed out while paused.
    expect(pause.doneAfterWaiting).toBeLessThanOrEqual(pause.done + pause.inFlight);
    expect(pause.doneAfterWaiting).toBeLessThan(210);
    expect(outcome.done).toBe(210);
    await page.close();
  });

  it('keeps tensors and heap flat from batch 10 to batch 200 in a worker', async () => {
    const page = await chrome.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.evaluate(() => window.graft.session.clearCache());
    const outcome = await extractInPage(page, 'flowers-210', { ...SETTINGS, workers: 1, maxChunkSize: 1 }, null, [10, 200]);
    const at = (batch: number) => outcome.memory.find((m) => m.worker === 0 && m.batch === batch)!;
    expect(outcome.memory.length).toBeGreaterThanOrEqual(200);
    expect(at(200).numTensors).toBe(at(10).numTensors);
    expect(at(200).numBytes).toBe(at(10).numBytes);
    const heap = outcome.workerHeap;
    console.log(`extraction worker JS memory: after batch 10 ${heap[10]} B, after batch 200 ${heap[200]} B`);
    expect(heap[10]).toBeGreaterThan(0);
    // 190 more images went through; their bytes and decoded pixels (~300 KB each) went to IndexedDB or away.
    expect(heap[200] - heap[10]).toBeLessThan(4 * 1024 * 1024);
    await page.close();
  });
});

describe('WebGPU (SwiftShader) against WASM', () => {
  it('gives matching features on a few images', async () => {
    // SwiftShader runs WebGPU on the CPU: correct but slow, so one worker and four images.
    const gpu = await launchChromium({ webgpu: true });
    try {
      const page = await gpu.context.newPage();
      const onGpu = await extractInPage(page, 'flowers-4', { ...SETTINGS, workers: 1, backend: 'webgpu' });
      expect(onGpu.reports.map((r) => r.backend)).toEqual(['webgpu']);
      expect(onGpu.done).toBe(4);
      const keys = onGpu.imageIds.map((id) => featureKey(onGpu.pooledKey, id, 0));
      const gpuFeatures = await storedFeatures(page, keys);
      await page.close();

      // The WASM profile holds these images already (they are among the 210) or extracts them now.
      const wasmPage = await chrome.context.newPage();
      const onWasm = await extractInPage(wasmPage, 'flowers-4', { ...SETTINGS, workers: 1, backend: 'wasm' });
      expect(onWasm.reports.every((r) => r.backend === 'wasm')).toBe(true);
      const wasmFeatures = await storedFeatures(wasmPage, keys);
      await wasmPage.close();
      const diffs = keys.map((_, i) => maxAbsDiff(gpuFeatures[i]!, wasmFeatures[i]!));
      console.log(`webgpu vs wasm, max abs diff per image: ${diffs.map((d) => d.toExponential(2)).join(' ')}`);
      // What the README claims: WebGPU's features equal WASM's within 3e-5.
      for (const diff of diffs) expect(diff).toBeLessThan(3e-5);
    } finally {
      await gpu.close();
    }
  });
});
