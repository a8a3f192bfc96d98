/** The extraction pipeline alone, timed in the page: the farm on the whole dataset with an empty feature cache. */
import type { Page } from 'playwright-core';
import type { BackendReport, StageSeconds, WorkerMemory } from '../../../shared/farm';
import type { PageSettings } from '../../../client/page/run-planner';
import type { MeasureWindow } from './measure-window';

export interface ExtractionRun {
  seconds: number;
  /** Seconds until every worker had started its backend and loaded the base. */
  startSeconds: number;
  images: number;
  failed: number;
  /** Worker seconds in each pipeline stage, summed over workers. */
  stageSeconds: StageSeconds;
  backends: BackendReport[];
  /** Each worker's memory after its first and after its last batch. */
  memory: { worker: number; first: WorkerMemory; last: WorkerMemory; batches: number }[];
  pageHeapBytes: number | null;
}

/** One extraction of the whole dataset with an empty feature cache: session.extract() as start() runs it. */
export function extractionRun(page: Page, settings: PageSettings): Promise<ExtractionRun> {
  return page.evaluate(async (settings) => {
    const { session } = (window as unknown as MeasureWindow).measure;
    await session.clearCache();
    const plan = await session.plan(settings);
    const started = performance.now();
    let allStarted: number | null = null;
    let active = true;
    session.on('extract', (p) => {
      if (active && allStarted === null && p.workers.length > 0 && p.workers.every((w) => w.report !== null)) allStarted = performance.now();
    });
    const progress = await session.extract(plan, new AbortController().signal);
    const ended = performance.now();
    active = false;
    if (!progress) throw new Error('nothing was extracted: the feature cache was not empty');
    const log = session.farm?.memoryLog ?? [];
    const workers = [...new Set(log.map((m) => m.worker))];
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    const plain = (m: WorkerMemory) => ({ numTensors: m.numTensors, numBytes: m.numBytes, jsHeapBytes: m.jsHeapBytes });
    return {
      seconds: (ended - started) / 1000,
      startSeconds: ((allStarted ?? ended) - started) / 1000,
      images: progress.scheduler.done,
      failed: progress.scheduler.failed.length,
      stageSeconds: progress.stageSeconds,
      backends: progress.workers.flatMap((w) => (w.report ? [w.report] : [])),
      memory: workers.map((worker) => {
        const own = log.filter((m) => m.worker === worker);
        return { worker, first: plain(own[0]), last: plain(own[own.length - 1]), batches: own.length };
      }),
      pageHeapBytes: heap?.usedJSHeapSize ?? null,
    };
  }, settings);
}
