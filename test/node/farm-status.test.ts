/**
 * What the workers table says (client/farm/farm.ts's progress), on stand-in extraction workers in Node that answer
 * when the test lets them: the farm's bookkeeping runs as in the page, without decoding or a base model. Each
 * state a worker is shown in must be true: none is shown working once the run is done, cancelled or paused with
 * nothing in flight, and a worker given up stays "stopped" with its reason.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { BackendReport, ExtractItem, ExtractResult } from '../../shared/farm';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import { Farm, type ExtractionJob, type FarmProgress } from '../../client/farm/farm';
import { MAX_DEATHS } from '../../client/engine/supervised-worker';
import { StandInWorker } from '../support/stand-in-worker';

const REPORT: BackendReport = { backend: 'wasm', simd: true, threads: 1, notes: [] };

/** Extract calls the stand-in workers hold until the test answers them (only while `holding`). */
let held: { items: ExtractItem[]; answer: () => void }[];
let holding: boolean;

function extracted(items: ExtractItem[]): ExtractResult {
  return {
    done: items.map((item) => item.imageId),
    failed: [],
    forwardPasses: items.reduce((sum, item) => sum + item.views.length, 0),
    seconds: { decode: 0, forward: 0, encode: 0, write: 0 },
    memory: { numTensors: 0, numBytes: 0, jsHeapBytes: null },
  };
}

beforeEach(() => {
  held = [];
  holding = false;
  vi.stubGlobal('navigator', { hardwareConcurrency: 2 });
  // The farm spawns its workers with `new Worker(...)`: each gets a stand-in that starts at once and extracts
  // nothing, answering every image done.
  vi.stubGlobal(
    'Worker',
    class extends StandInWorker {
      constructor() {
        super({
          init: () => REPORT,
          extract: (items: ExtractItem[]) =>
            holding ? new Promise<ExtractResult>((resolve) => held.push({ items, answer: () => resolve(extracted(items)) })) : extracted(items),
        });
      }
    },
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A farm of `workers` over `images` images, one image a call; `seen` holds every progress it reported. */
function farmOf(workers: number, images: number, onProgress: (progress: FarmProgress, farm: Farm) => void = () => {}) {
  const seen: FarmProgress[] = [];
  const farm: Farm = new Farm({ workers, backend: 'wasm', maxChunkSize: 1 }, (progress) => {
    seen.push(progress);
    onProgress(progress, farm);
  });
  const job: ExtractionJob = {
    datasetId: 'stand-in',
    // Handed to the workers' init() only, which the stand-ins do not read.
    record: {} as ExtractionJob['record'],
    artifacts: {} as ExtractionJob['artifacts'],
    inputSize: 224,
    fineTuneAt: null,
    cutCodec: 'float16',
    augmentation: DEFAULT_AUGMENTATION,
    images: Array.from({ length: images }, (_, i) => ({ key: `image-${i}`, imageId: `image-${i}`, views: [0], bytes: async () => new Blob([`image ${i}`]) })),
  };
  return { farm, seen, job, last: () => seen.at(-1)! };
}

const states = (progress: FarmProgress) => progress.workers.map((w) => w.state);

/** Waits (bounded) until the stand-ins hold `count` calls. */
const holdingCalls = (count: number) => vi.waitFor(() => expect(held).toHaveLength(count), { timeout: 5_000 });

it('shows every worker idle, none working, once the run is done', async () => {
  const { farm, job, last } = farmOf(2, 9);
  const outcome = await farm.run(job, new AbortController().signal);
  expect(outcome.done).toBe(9);
  expect(last().scheduler.state).toBe('finished');
  expect(states(last())).toEqual(['idle', 'idle']);
  expect(last().workers.map((w) => w.done).reduce((a, b) => a + b)).toBe(9);
});

it('shows no worker working once the run is cancelled, its calls cut short', async () => {
  holding = true;
  const { farm, job, last } = farmOf(2, 9);
  const cancel = new AbortController();
  const running = farm.run(job, cancel.signal);
  await holdingCalls(2);
  expect(states(last())).toEqual(['working', 'working']);
  cancel.abort();
  await running;
  expect(last().scheduler.state).toBe('cancelled');
  expect(states(last())).toEqual(['idle', 'idle']);
});

it('shows a worker working while paused only until its batch is in, and idle once the run is done', async () => {
  holding = true;
  const { farm, job, last } = farmOf(2, 6);
  const running = farm.run(job, new AbortController().signal);
  await holdingCalls(2);
  farm.pause();
  // The batches in flight finish; no new one is handed out.
  held.shift()!.answer();
  await vi.waitFor(() => expect(states(last())).toEqual(['idle', 'working']), { timeout: 5_000 });
  held.shift()!.answer();
  await vi.waitFor(() => expect(states(last())).toEqual(['idle', 'idle']), { timeout: 5_000 });
  expect(last().scheduler).toMatchObject({ state: 'paused', done: 2, leased: 0 });
  holding = false;
  farm.resume();
  expect((await running).done).toBe(6);
  expect(states(last())).toEqual(['idle', 'idle']);
});

it('keeps a worker given up shown stopped with its reason, and the other idle once the run is done', async () => {
  let kills = 0;
  const { farm, job, last } = farmOf(2, 12, (progress, farm) => {
    // Worker 0 dies each time it has started and taken work, as a worker that crashes on every batch.
    if (progress.workers[0].report && progress.workers[0].state === 'working') {
      kills++;
      farm.terminateWorker(0);
    }
  });
  const outcome = await farm.run(job, new AbortController().signal);
  expect(kills).toBe(MAX_DEATHS);
  expect(outcome.done).toBe(12);
  expect(states(last())).toEqual(['dead', 'idle']);
  expect(last().workers[0].stoppedBecause).toBe(`extraction worker 0 stopped ${MAX_DEATHS} times (last: terminated on request); given up`);
});
