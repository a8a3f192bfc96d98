/**
 * The page's side of the trainer worker. It starts the worker on the chosen base model and backend (another
 * choice, or a trainer given up, starts a fresh one), makes every call wait for the choice in progress, holds which
 * saved classifier the worker has loaded (a restarted worker loads it again), and turns the worker's API into what
 * the session asks of it. Classify and Live see it only as a Classifier, so another engine can answer them.
 */
import * as Comlink from 'comlink';
import type { Augmentation } from '../../shared/augmentation';
import type { Classifier } from '../classifier/classifier';
import type { BackendChoice, BackendReport } from '../../shared/farm';
import type { ModelRecord } from '../../shared/records';
import type {
  Classification,
  FrameClassification,
  ModelSummary,
  SavedClassifier,
  TrainEvent,
  TrainOutcome,
  TrainRequest,
  WeightQuantization,
} from '../../shared/trainer-messages';
import type { TrainSettings } from '../../shared/training';
import { START_LIMIT_MS, SupervisedWorker, WorkerDiedError } from '../engine/supervised-worker';
import { threadsPerWorker } from '../farm/farm';
import type { TrainWorkerApi } from '../trainer/worker/train.worker';
import type { ModelDownloads } from './model-downloads';
import type { RunPlan } from './run-planner';
import { BACKEND_NAMES, sentence } from './text/backend-text';
import type { TfliteTrainer } from './tflite-export';

export interface TrainerClientEvents {
  /** What the (re)started trainer runs on. */
  onReport(report: BackendReport): void;
  /** A restart the visitor should know of. */
  onInfo(message: string): void;
}

const TRAINER_NAME = 'the trainer';
/** A training batch, an epoch's checkpoint or the final evaluation takes far less on any machine here. */
const TRAINER_SILENCE_LIMIT_MS = 180_000;

const spawnTrainer = () =>
  new Worker(new URL('../trainer/worker/train.worker.ts', import.meta.url), { type: 'module', name: 'graft-trainer' });

/** The trainer worker crashed or hung mid-training: its run's checkpoints are intact. */
export class TrainerLostError extends Error {
  override name = 'TrainerLostError';

  /** @param epochsSaved epochs the run's last checkpoint of this stage holds (null: none saved in it) */
  constructor(reason: string, epochsSaved: number | null) {
    const from = epochsSaved === null ? 'its last checkpoint' : `its checkpoint after epoch ${epochsSaved}`;
    super(`Training stopped: ${reason}. Nothing saved is lost: Resume continues the run from ${from}.`);
  }
}

export class TrainerClient implements Classifier {
  /** Longest the trainer may train without a progress event before it counts as dead or hung. */
  silenceLimitMs = TRAINER_SILENCE_LIMIT_MS;
  /** Longest one start of a trainer may take before it is replaced (read when the trainer is made). */
  startLimitMs = START_LIMIT_MS;
  #worker: SupervisedWorker<TrainWorkerApi> | null = null;
  #report: BackendReport | null = null;
  /** The choice in progress (download, start): calls made meanwhile wait for it. */
  #chosen: Promise<unknown> = Promise.resolve();
  /** Model and backend the worker was started with: another of either needs a fresh worker. */
  #startedFor: string | null = null;
  /** The saved classifier the worker holds: a restarted worker loads it again for classify and export. */
  #classifierRunId: string | null = null;

  constructor(
    private readonly downloads: ModelDownloads,
    private readonly events: TrainerClientEvents,
  ) {}

  /** Starts the trainer on `record` (downloaded once) and `backend`; a no-op when it already runs on them. */
  choose(record: ModelRecord, backend: BackendChoice): Promise<BackendReport> {
    const chosen = this.#start(record, backend);
    this.#chosen = chosen.catch(() => undefined);
    return chosen;
  }

  async #start(record: ModelRecord, backend: BackendChoice): Promise<BackendReport> {
    const artifacts = await this.downloads.get(record);
    if (this.#startedFor !== `${record.id}|${backend}` || this.#worker?.givenUp) {
      this.#worker?.terminate('another base model or backend was chosen');
      this.#report = null;
      this.#worker = new SupervisedWorker<TrainWorkerApi>({
        name: TRAINER_NAME,
        spawn: spawnTrainer,
        startLimitMs: this.startLimitMs,
        start: { backend: { backend, threads: threadsPerWorker(1) }, run: (remote, request) => remote.init({ ...request, artifacts, record }) },
        // Every (re)start: the saved classifier it held comes back, and the page is told what it runs on.
        onStarted: async (report, remote, failures) => {
          // A classifier that no longer loads (cache cleared) must not stop the trainer: classify then asks to train.
          if (this.#classifierRunId) await remote.useSavedClassifier(this.#classifierRunId).catch(() => null);
          this.#report = report;
          this.events.onReport(report);
          if (failures.length > 0) this.events.onInfo(`${sentence(report.notes[0])}: it runs on ${BACKEND_NAMES[report.backend]} now.`);
        },
      });
      this.#startedFor = `${record.id}|${backend}`;
    }
    await this.#worker!.started();
    return this.#report!;
  }

  /** Runs a call on the trainer once the choice in progress has started it. */
  async #call<T>(call: (trainer: Comlink.Remote<TrainWorkerApi>, alive: () => void) => Promise<T>, limitMs?: number): Promise<T> {
    await this.#chosen;
    if (!this.#worker) throw new Error('choose a base model first');
    return this.#worker.call(undefined, call, limitMs);
  }

  /** The chosen base's layer names, up to its bottleneck. */
  layerNames(): Promise<string[]> {
    return this.#call((t) => t.layerNames());
  }

  describe(settings: Pick<TrainSettings, 'fineTuneAt' | 'seed' | 'dropout' | 'hiddenUnits'> & { inputSize: number }, classes: number): Promise<ModelSummary> {
    return this.#call((t) => t.describe(settings.inputSize, settings.fineTuneAt, classes, settings));
  }

  /** An image and nine augmented views of it, as training will see them. */
  previewAugmentation(bytes: Blob, imageId: string, inputSize: number, augmentation: Augmentation): Promise<ImageBitmap[]> {
    return this.#call((t) => t.previewAugmentation(bytes, imageId, inputSize, augmentation, 9));
  }

  /**
   * Trains the plan's run (`resume`: from its last checkpoint), handing every event on. A trainer that dies or
   * goes `silenceLimitMs` without an event rejects with TrainerLostError, which says where Resume continues.
   */
  async train(plan: RunPlan, resume: boolean, onEvent: (event: TrainEvent) => void): Promise<TrainOutcome> {
    const { run, split, dataset } = plan;
    const request: TrainRequest = {
      runId: run.runId,
      datasetId: dataset.id,
      classes: dataset.classes,
      labels: Object.fromEntries(dataset.images.map((i) => [i.imageId, dataset.classes.indexOf(i.class)])),
      split,
      settings: run.settings,
      inputSize: run.settings.inputSize,
      pooledKey: run.pooledKey,
      cutKey: run.cutKey,
      augmentation: run.augmentation,
      resume,
      fineTune: { workers: run.settings.workers, threads: threadsPerWorker(run.settings.workers) },
    };
    let checkpointed: number | null = null;
    const outcome = await this.#call<TrainOutcome>(
      (trainer, alive) =>
        trainer.train(
          request,
          Comlink.proxy((event: TrainEvent) => {
            // Every event is a sign of life: a trainer that sends none for the limit counts as hung.
            alive();
            if (event.kind === 'checkpoint') checkpointed = event.epoch;
            onEvent(event);
          }),
        ),
      this.silenceLimitMs,
    ).catch((error: unknown) => {
      throw error instanceof WorkerDiedError ? new TrainerLostError(error.message, checkpointed) : error;
    });
    if (outcome.finished) this.#classifierRunId = request.runId;
    return outcome;
  }

  /** Stops training after the current batch (the run's last checkpoint is where a resume starts). */
  stop(): void {
    void this.#worker?.interrupt((t) => t.stop());
  }

  /** Ends one of the trainer's fine-tuning helpers as a crash would (tests: training goes on). */
  async terminateFineTuneHelper(index: number): Promise<void> {
    await this.#worker?.interrupt((t) => t.terminateFineTuneHelper(index));
  }

  /** Loads a saved classifier for classify and export; null when this browser no longer has it. */
  async useSaved(runId: string): Promise<SavedClassifier | null> {
    const saved = await this.#call((t) => t.useSavedClassifier(runId));
    if (saved) this.#classifierRunId = runId;
    return saved;
  }

  /** The run whose classifier the worker holds for classify and export, or null. */
  get classifierRunId(): string | null {
    return this.#classifierRunId;
  }

  /** Drops the classifier in use ("Delete everything" took its saved copy). */
  async forgetClassifier(): Promise<void> {
    this.#classifierRunId = null;
    await this.#worker?.call(undefined, (t) => t.forgetClassifier());
  }

  classify(image: Blob): Promise<Classification[]> {
    return this.#call((t) => t.classify(image, 3));
  }

  /** The frame is transferred to the trainer, which closes it. */
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
    return this.#call((t) => t.classifyFrame(Comlink.transfer(frame, [frame])));
  }

  exportModel(quantization: WeightQuantization): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
    return this.#call((t) => t.exportModel(quantization));
  }

  /**
   * The calls a TFLite export makes (tflite-export.ts). Once `signal` aborts, a call not yet begun rejects at its
   * turn and the export under way stops at its next image, so a new run never waits behind them.
   */
  tflite(signal: AbortSignal): TfliteTrainer {
    const stoppable = <T>(call: (trainer: Comlink.Remote<TrainWorkerApi>) => Promise<T>) =>
      this.#call(async (trainer) => {
        signal.throwIfAborted();
        const stop = () => void this.#worker?.interrupt((t) => t.stopTflite());
        signal.addEventListener('abort', stop, { once: true });
        try {
          return await call(trainer);
        } finally {
          signal.removeEventListener('abort', stop);
        }
      });
    // The casts undo Comlink's Remote, which turns a union result into a union of promises.
    return {
      tfliteImageIds: () => stoppable((t) => t.tfliteImageIds()) as ReturnType<TfliteTrainer['tfliteImageIds']>,
      exportTflite: (...args) => stoppable((t) => t.exportTflite(...args)) as ReturnType<TfliteTrainer['exportTflite']>,
    };
  }
}
