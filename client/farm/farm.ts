/**
 * The farm, on the main thread: N extraction workers fed dynamically from one WorkScheduler. It only moves
 * small things around (which images, Blob handles, progress): decoding, inference and cache writes happen in
 * the workers. A worker that dies has its images handed to the others and is replaced; a slot whose worker is
 * given up (supervised-worker.ts: its MAX_DEATHS-th death) stops, with the reason, and the run ends with a message if
 * no worker is left.
 */
import type { BackendChoice, BackendReport, ExtractItem, ExtractorInit, LiteRtSettings, ModelArtifactsData, StageSeconds, TensorCodec, WorkerMemory } from '../../shared/farm';
import type { Augmentation } from '../../shared/augmentation';
import type { ModelRecord } from '../../shared/records';
import type { ExtractWorkerApi } from './extract.worker';
import { WorkScheduler, type Progress } from './scheduler';
import { isStorageFull } from '../cache/errors';
import { SupervisedWorker, WorkerDiedError } from '../engine/supervised-worker';

export interface FarmImage {
  /** The scheduler's key: the image id, by which workers report the images done and failed. */
  key: string;
  imageId: string;
  /** Views still missing from the cache (0 = original, 1..K augmented). */
  views: number[];
  /** The image's bytes, fetched when a worker is about to need them. */
  bytes: () => Promise<Blob>;
}

export interface ExtractionJob {
  datasetId: string;
  record: ModelRecord;
  artifacts: ModelArtifactsData;
  inputSize: number;
  fineTuneAt: number | string | null;
  cutCodec: TensorCodec;
  augmentation: Augmentation;
  images: FarmImage[];
}

export interface FarmOptions {
  workers: number;
  backend: BackendChoice;
  /** Most images one worker call takes (its forward-pass batch). */
  maxChunkSize: number;
}

export type WorkerState = 'starting' | 'working' | 'idle' | 'dead' | 'restarting';

export interface FarmWorkerStatus {
  id: number;
  report: BackendReport | null;
  state: WorkerState;
  done: number;
  imagesPerSecond: number;
  /** Why the slot was given up (state 'dead'). */
  stoppedBecause?: string;
}

/** A worker's memory after one of its batches. */
export interface MemorySample extends WorkerMemory {
  worker: number;
  /** 1-based count of batches this worker has finished. */
  batch: number;
}

export interface FarmProgress {
  scheduler: Progress;
  workers: FarmWorkerStatus[];
  /** Base-model forward passes in this run (one per image view). */
  forwardPasses: number;
  /** Worker seconds of this run in each pipeline stage, summed over workers. */
  stageSeconds: StageSeconds;
}

interface Slot {
  id: number;
  /** Scheduler id of the slot's current worker: a replacement gets a new one. */
  generation: number;
  worker: SupervisedWorker<ExtractWorkerApi>;
  status: FarmWorkerStatus;
  /** Batches the slot's workers have finished. */
  batches: number;
  /** Why the slot's last worker stopped while LiteRT.js ran its forward pass: its replacements run tfjs. */
  liteRtStopped: string | null;
}

/**
 * How the farm runs LiteRT.js, chosen by measurement (tools/litert-grid.ts: 2 workers on 2 cores, headless
 * Chromium, forward passes alone against the tfjs compiled base in pairs, worker CPU time from Chromium's trace):
 * relaxed SIMD where the browser has it (1.19x less CPU than tfjs, the compat build 1.05x); one image per run
 * (batch 4: 1.18x, batch 16: 1.03x); one thread per worker (the threaded build with 2 threads: 1.22x, no less
 * work, and its pool of nested pthread workers is what hung Firefox in tfjs's threaded build).
 */
export const LITERT_SETTINGS: LiteRtSettings = { batch: 1, threads: 1, relaxedSimd: true };

const spawnExtractWorker = () =>
  new Worker(new URL('./extract.worker.ts', import.meta.url), { type: 'module', name: 'graft-extract' });

/** Threads per worker: the cores the farm leaves unused, shared out (one each when workers = cores). */
export function threadsPerWorker(workers: number): number {
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

export class Farm {
  #slots: Slot[] = [];
  #scheduler: WorkScheduler<FarmImage> | null = null;
  #wake: (() => void) | null = null;
  #forwardPasses = 0;
  #stageSeconds: StageSeconds = { decode: 0, forward: 0, encode: 0, write: 0 };
  /** An error that stops the whole run (the cache is full): every worker would hit it. */
  #fatal: Error | null = null;
  /** Memory after every batch, per worker (the leak test compares batch 10 with batch 200). */
  readonly memoryLog: MemorySample[] = [];

  constructor(
    private readonly options: FarmOptions,
    private readonly onProgress: (progress: FarmProgress) => void,
  ) {}

  /** Extracts every image's missing views into the cache; resolves when all are done, failed or cancelled. */
  async run(job: ExtractionJob, signal: AbortSignal): Promise<Progress> {
    const scheduler = new WorkScheduler(job.images, { chunkSeconds: 1, maxChunkSize: this.options.maxChunkSize, maxAttempts: 1 });
    this.#scheduler = scheduler;
    this.#forwardPasses = 0;
    this.#stageSeconds = { decode: 0, forward: 0, encode: 0, write: 0 };
    const init: ExtractorInit = {
      backend: this.options.backend,
      threads: threadsPerWorker(this.options.workers),
      artifacts: job.artifacts,
      record: job.record,
      inputSize: job.inputSize,
      fineTuneAt: job.fineTuneAt,
      datasetId: job.datasetId,
      cutCodec: job.cutCodec,
      augmentation: job.augmentation,
      engine: 'auto',
      liteRt: LITERT_SETTINGS,
    };
    const onAbort = () => {
      scheduler.cancel();
      for (const slot of this.#slots) slot.worker.terminate('cancelled');
      this.#wakeAll();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#slots = Array.from({ length: Math.max(1, this.options.workers) }, (_, id) => this.#makeSlot(id, init));
      this.#emit();
      this.#fatal = null;
      await Promise.all(this.#slots.map((slot) => this.#drive(slot, signal)));
      if (this.#fatal) throw this.#fatal;
      const outcome = scheduler.snapshot();
      if (!signal.aborted && outcome.queued + outcome.leased > 0) {
        // Every slot was given up with images left: say why instead of training on a part of the data.
        throw new Error(`Feature extraction stopped: ${this.#slots.map((s) => s.status.stoppedBecause).join('; ')}`);
      }
      return outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      for (const slot of this.#slots) slot.worker.terminate('finished');
      this.#emit();
    }
  }

  pause(): void {
    this.#scheduler?.pause();
    this.#emit();
  }

  resume(): void {
    this.#scheduler?.resume();
    this.#wakeAll();
    this.#emit();
  }

  /** Kills one worker as a crash would (used by the page's tests); its images go to the others. */
  terminateWorker(id: number): void {
    const slot = this.#slots[id];
    if (!slot) return;
    slot.worker.kill('terminated on request');
    this.#replace(slot);
  }

  /**
   * The slot's worker died: its leased images go back to the queue and a fresh worker takes its place, unless
   * the worker was given up; then the slot stops and the other workers take its images.
   */
  #replace(slot: Slot): void {
    this.#scheduler?.workerDied(`${slot.id}.${slot.generation}`);
    slot.generation++;
    slot.status.report = null;
    if (slot.worker.givenUp) {
      this.#giveUp(slot, slot.worker.givenUp);
      return;
    }
    slot.status.state = 'restarting';
    this.#wakeAll();
    this.#emit();
  }

  #giveUp(slot: Slot, reason: string): void {
    slot.status.state = 'dead';
    slot.status.stoppedBecause = reason;
    this.#wakeAll();
    this.#emit();
  }

  #makeSlot(id: number, init: ExtractorInit): Slot {
    const status: FarmWorkerStatus = { id, report: null, state: 'starting', done: 0, imagesPerSecond: 0 };
    const name = `extraction worker ${id}`;
    const slot: Slot = { id, generation: 0, worker: null!, status, batches: 0, liteRtStopped: null };
    slot.worker = new SupervisedWorker<ExtractWorkerApi>({
      name,
      spawn: spawnExtractWorker,
      // A start that failed, and a worker that stopped while LiteRT.js ran (LiteRT may be what stopped it),
      // go on on tfjs.
      start: {
        backend: { backend: init.backend, threads: init.threads },
        run: (remote, request, failures) => remote.init({ ...init, ...request, engine: failures.length > 0 || slot.liteRtStopped ? 'tfjs' : init.engine }),
      },
      onStarted: (report) => {
        if (slot.liteRtStopped) report.notes.unshift(`${name} stopped while LiteRT.js ran (${slot.liteRtStopped}), so its replacement runs TF.js`);
        status.report = report;
        this.#emit();
      },
      onDeath: (reason) => {
        if (status.report?.liteRt) slot.liteRtStopped = reason;
      },
    });
    return slot;
  }

  /**
   * One worker's loop: take a chunk, extract it, report, repeat; replace the worker if it dies. When the loop ends
   * (the run finished, was cancelled or stopped) the slot works no more, so it is shown idle, not in the state of
   * its last batch; a slot given up stays 'dead' with its reason. run() reports it.
   */
  async #drive(slot: Slot, signal: AbortSignal): Promise<void> {
    try {
      await this.#takeWork(slot, signal);
    } finally {
      if (slot.status.state !== 'dead') slot.status.state = 'idle';
    }
  }

  async #takeWork(slot: Slot, signal: AbortSignal): Promise<void> {
    const scheduler = this.#scheduler!;
    for (;;) {
      if (slot.status.state === 'dead') return;
      const workerId = `${slot.id}.${slot.generation}`;
      const chunk = scheduler.next(workerId);
      if (!chunk) {
        const progress = scheduler.snapshot();
        if (progress.state === 'finished' || progress.state === 'cancelled' || signal.aborted) return;
        if (progress.state === 'running' && progress.queued === 0 && progress.leased === 0) return;
        slot.status.state = 'idle';
        this.#emit();
        await new Promise<void>((resolve) => (this.#wake = chainWake(this.#wake, resolve)));
        continue;
      }
      const items = await this.#fetchBytes(chunk, workerId);
      if (items.length === 0) {
        this.#wakeAll();
        this.#emit();
        continue;
      }
      try {
        slot.status.state = 'working';
        this.#emit();
        const result = await slot.worker.call(signal, (remote) => remote.extract(items));
        if (result.report) slot.status.report = result.report;
        scheduler.complete(workerId, result.done);
        for (const failure of result.failed) scheduler.fail(workerId, failure.key, failure.reason);
        this.#forwardPasses += result.forwardPasses;
        for (const stage of Object.keys(this.#stageSeconds) as (keyof StageSeconds)[]) this.#stageSeconds[stage] += result.seconds[stage];
        this.memoryLog.push({ ...result.memory, worker: slot.id, batch: ++slot.batches });
        // Idle workers wait for leases to settle (a death returns items; the last completion ends the run).
        this.#wakeAll();
      } catch (error) {
        if (signal.aborted) return;
        if (isStorageFull(error)) {
          // Nothing more fits: stop every worker; what is stored stays, and the message says how much.
          this.#fatal = error as Error;
          scheduler.cancel();
          this.#wakeAll();
          return;
        }
        if (error instanceof WorkerDiedError) {
          // Replaced already if it was killed on request; a crash or a hang is handled here.
          if (workerId === `${slot.id}.${slot.generation}`) this.#replace(slot);
          continue;
        }
        // A worker that throws (not crashes), or that could not start at all, would fail again: stop it rather than loop.
        scheduler.workerDied(workerId);
        slot.worker.terminate((error as Error).message);
        this.#giveUp(slot, (error as Error).message);
        return;
      }
      this.#emit();
    }
  }

  /** The chunk's images with their bytes; an image whose bytes cannot be had fails alone, with the reason. */
  async #fetchBytes(chunk: FarmImage[], workerId: string): Promise<ExtractItem[]> {
    const fetched = await Promise.allSettled(chunk.map((image) => image.bytes()));
    const items: ExtractItem[] = [];
    fetched.forEach((result, i) => {
      const { key, imageId, views } = chunk[i];
      if (result.status === 'fulfilled') items.push({ imageId, views, bytes: result.value });
      else this.#scheduler!.fail(workerId, key, `not downloaded: ${(result.reason as Error)?.message ?? String(result.reason)}`);
    });
    return items;
  }

  #wakeAll(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #emit(): void {
    const scheduler = this.#scheduler;
    if (!scheduler) return;
    const progress = scheduler.snapshot();
    for (const slot of this.#slots) {
      const own = progress.workers.filter((w) => w.workerId.startsWith(`${slot.id}.`));
      slot.status.done = own.reduce((sum, w) => sum + w.done, 0);
      const current = own.find((w) => w.workerId === `${slot.id}.${slot.generation}`);
      slot.status.imagesPerSecond = current?.imagesPerSecond ?? 0;
    }
    this.onProgress({ scheduler: progress, workers: this.#slots.map((s) => ({ ...s.status })), forwardPasses: this.#forwardPasses, stageSeconds: { ...this.#stageSeconds } });
  }
}

function chainWake(previous: (() => void) | null, next: () => void): () => void {
  return () => {
    previous?.();
    next();
  };
}
