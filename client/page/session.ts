/**
 * The page's controller: one visitor's session. It picks a dataset and a base model, runs the farm to fill the
 * feature cache (only what is missing), then the trainer worker, and tells the views what happens through typed
 * events. It never touches pixels or tensors: the workers do.
 */
import * as Comlink from 'comlink';
import { DEFAULT_AUGMENTATION, type Augmentation } from '../../shared/augmentation';
import type { BackendChoice, BackendReport, ModelArtifactsData } from '../../shared/farm';
import type { ModelRecord } from '../../shared/records';
import type { RunRecord, RunSettingsInput } from '../../shared/run-record';
import type { Evaluation, History, SplitAssignment } from '../../shared/training';
import type { Classification, FrameClassification, ModelSummary, SavedClassifier, TfliteKind, TrainEvent, TrainOutcome } from '../../shared/trainer-messages';
import { downloadModel, listDatasets, listModels, requestCounter } from '../api/storage-client';
import { listCheckpoints, type CheckpointSummary } from '../cache/checkpoint-store';
import { listClassifiers } from '../cache/classifier-store';
import { clearEverything } from '../cache/connection';
import { isStorageFull } from '../cache/errors';
import { missingKeys, summary, type CacheSummaryEntry } from '../cache/feature-store';
import { featureKey, modelKey } from '../cache/keys';
import { Farm, threadsPerWorker, type FarmImage, type FarmProgress } from '../farm/farm';
import { SupervisedWorker, WorkerDiedError } from '../engine/supervised-worker';
import { splitImages } from '../trainer/split';
import type { TrainWorkerApi } from '../trainer/worker/train.worker';
import { droppedFolder, isDroppedFolderId, isOnDeviceId, onDeviceDataset, storedDataset, type DatasetChoice } from './dataset-source';
import { BACKEND_NAMES, sentence } from './views/backend-text';
import { newRun, Runs, withEpoch, withStorage } from './runs';
import { dropCutActivations, freeBytes, keepCachedImages, runFootprint } from './run-storage';
import { chooseStorage, type CutStorage, type StoragePlan } from './storage-plan';
import { checkedTflite, type CheckedTflite, type TfliteTrainer } from './tflite-export';

export type SessionState = 'idle' | 'extracting' | 'training' | 'paused' | 'done' | 'error';

/** What a run is started with: its settings and, for eval's measurements, how an augmented view is made. */
export type PageSettings = RunSettingsInput & {
  /** Absent: DEFAULT_AUGMENTATION (the page's; eval measures others). */
  augmentation?: Augmentation;
};

export interface RunPlan {
  run: RunRecord;
  split: SplitAssignment;
  dataset: DatasetChoice;
  record: ModelRecord;
}

export interface SessionEvents {
  state: SessionState;
  extract: FarmProgress;
  train: TrainEvent;
  /** A run's curves and results; `inputSize` is its classifier's (the run's, not the form's). */
  results: { history: History; evaluation: Evaluation; inputSize: number };
  trainer: BackendReport;
  error: string;
  info: string;
}

type Listener<K extends keyof SessionEvents> = (value: SessionEvents[K]) => void;

const TRAINER_NAME = 'the trainer';
/** A training batch, an epoch's checkpoint or the final evaluation takes far less on any machine here. */
const TRAINER_SILENCE_LIMIT_MS = 180_000;

const spawnTrainer = () =>
  new Worker(new URL('../trainer/worker/train.worker.ts', import.meta.url), { type: 'module', name: 'graft-trainer' });

export class Session {
  state: SessionState = 'idle';
  dataset: DatasetChoice | null = null;
  model: ModelRecord | null = null;
  #artifacts = new Map<string, Promise<ModelArtifactsData>>();
  /** The trainer worker: a crash or a hang rejects its calls, and the next call starts a fresh one. */
  #trainer: SupervisedWorker<TrainWorkerApi> | null = null;
  #trainerReport: BackendReport | null = null;
  /** The model choice in progress (download, trainer start): trainer calls made meanwhile wait for it. */
  #trainerChosen: Promise<unknown> = Promise.resolve();
  /** Model and backend the trainer worker was started with: another of either needs a fresh worker. */
  #trainerFor: string | null = null;
  /** The saved classifier the trainer holds: a restarted trainer loads it again for classify and export. */
  #classifierRunId: string | null = null;
  /** The farm of the extraction in progress (tests terminate one of its workers). */
  farm: Farm | null = null;
  /** The last progress the farm reported. */
  lastExtraction: FarmProgress | null = null;
  #abort: AbortController | null = null;
  /** The start() under way (or last settled): a resume waits for a stopped training to end its batch. */
  #running: Promise<void> | null = null;
  #listeners = new Map<keyof SessionEvents, Set<(value: never) => void>>();
  #runs = new Runs();
  /** Longest the trainer may train without a progress event before it counts as dead or hung. */
  trainerSilenceLimitMs = TRAINER_SILENCE_LIMIT_MS;

  on<K extends keyof SessionEvents>(event: K, listener: Listener<K>): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (value: never) => void);
  }

  #emit<K extends keyof SessionEvents>(event: K, value: SessionEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<K>)(value);
  }

  #setState(state: SessionState): void {
    this.state = state;
    this.#emit('state', state);
  }

  /** The run in progress, or the last one this page ran: what it trains, as storage may have cut it down. */
  get run(): RunRecord | null {
    return this.#runs.current;
  }

  /** A run of this or an earlier visit, or null when this browser has no record of it. */
  loadRun(runId: string): Promise<RunRecord | null> {
    return this.#runs.load(runId);
  }

  get requests(): number {
    return requestCounter.count;
  }

  catalog() {
    return Promise.all([listDatasets(), listModels()]).then(([datasets, models]) => ({ datasets, models }));
  }

  /** A stored dataset, or the classes built in the page as they were when a run of `id` used them. */
  async chooseDataset(id: string): Promise<DatasetChoice> {
    if (!isOnDeviceId(id)) {
      this.dataset = await storedDataset(id);
      return this.dataset;
    }
    const now = await onDeviceDataset();
    if (now.id !== id) throw new Error('Your classes have changed since this run used them: train again on them as they are now.');
    this.dataset = now;
    return now;
  }

  /** The classes built in the page, as they are now. */
  async chooseOnDevice(): Promise<DatasetChoice> {
    // Edited down to fewer than two classes: no dataset rather than the classes as they were.
    this.dataset = null;
    this.dataset = await onDeviceDataset();
    return this.dataset;
  }

  async chooseFolder(files: { file: File; path: string }[]): Promise<DatasetChoice> {
    this.dataset = await droppedFolder(files);
    return this.dataset;
  }

  /** Downloads the base (once per page) and starts the trainer worker on it. */
  async chooseModel(record: ModelRecord, backend: BackendChoice): Promise<BackendReport> {
    this.model = record;
    const chosen = this.#startTrainer(record, backend);
    this.#trainerChosen = chosen.catch(() => undefined);
    return chosen;
  }

  async #startTrainer(record: ModelRecord, backend: BackendChoice): Promise<BackendReport> {
    let artifacts = this.#artifacts.get(record.id);
    if (!artifacts) {
      artifacts = downloadModel(record);
      artifacts.catch(() => this.#artifacts.delete(record.id));
      this.#artifacts.set(record.id, artifacts);
    }
    const data = await artifacts;
    // A trainer given up (its third death) is replaced when a run chooses its model again.
    if (this.#trainerFor !== `${record.id}|${backend}` || this.#trainer?.givenUp) {
      this.#trainer?.terminate('another base model or backend was chosen');
      this.#trainerReport = null;
      this.#trainer = new SupervisedWorker<TrainWorkerApi>({
        name: TRAINER_NAME,
        spawn: spawnTrainer,
        start: { backend: { backend, threads: threadsPerWorker(1) }, run: (remote, request) => remote.init({ ...request, artifacts: data, record }) },
        // Every (re)start: the saved classifier it held comes back, and the page is told what it runs on.
        onStarted: async (report, remote, failures) => {
          // A classifier that no longer loads (cache cleared) must not stop the trainer: classify then asks to train.
          if (this.#classifierRunId) await remote.useSavedClassifier(this.#classifierRunId).catch(() => null);
          this.#trainerReport = report;
          this.#emit('trainer', report);
          if (failures.length > 0) this.#emit('info', `${sentence(report.notes[0])}: it runs on ${BACKEND_NAMES[report.backend]} now.`);
        },
      });
      this.#trainerFor = `${record.id}|${backend}`;
    }
    await this.#trainer!.started();
    return this.#trainerReport!;
  }

  /** Runs a call on the trainer once the model being chosen has started it. */
  async #callTrainer<T>(call: (trainer: Comlink.Remote<TrainWorkerApi>, alive: () => void) => Promise<T>, limitMs?: number): Promise<T> {
    await this.#trainerChosen;
    if (!this.#trainer || !this.model) throw new Error('choose a base model first');
    return this.#trainer.call(undefined, call, limitMs);
  }

  describe(settings: PageSettings): Promise<ModelSummary> {
    const classes = this.dataset?.classes.length ?? 2;
    return this.#callTrainer((t) => t.describe(settings.inputSize, settings.fineTuneAt, classes, settings));
  }

  /** The first image of the dataset and nine augmented views of it, as training will see them. */
  async augmentationPreview(settings: PageSettings): Promise<ImageBitmap[]> {
    const image = this.dataset?.images[0];
    if (!image) throw new Error('choose a dataset first');
    const bytes = await image.bytes();
    return this.#callTrainer((t) => t.previewAugmentation(bytes, image.imageId, settings.inputSize, DEFAULT_AUGMENTATION, 9));
  }

  /** The run a start() would make (or continue): split, cache keys and identity. */
  async plan(settings: PageSettings, resume: RunRecord | null = null): Promise<RunPlan> {
    const dataset = this.dataset;
    const record = this.model;
    if (!dataset || !record) throw new Error('choose a dataset and a base model first');
    // A run's checkpoints hold what it learned from its own data: edited classes need a new run.
    if (resume && resume.datasetId !== dataset.id) throw new Error('The data changed since this run began (your classes were edited): train again to use them as they are now.');
    const runSettings = resume?.settings ?? settings;
    const split = splitImages(dataset.images.map((i) => ({ id: i.imageId, class: i.class })), runSettings);
    const keyParts = { modelId: record.id, weightsHash: record.weightsHash, inputSize: runSettings.inputSize };
    const pooledKey = modelKey({ ...keyParts, cutLayer: record.bottleneck });
    const fineTuneSummary = runSettings.fineTuneEpochs > 0 ? await this.describe(runSettings) : null;
    const cutKey = fineTuneSummary ? modelKey({ ...keyParts, cutLayer: fineTuneSummary.fineTuneAtName }) : null;
    const run =
      resume ??
      newRun({ datasetId: dataset.id, modelId: record.id, settings: runSettings, pooledKey, cutKey, augmentation: settings.augmentation ?? DEFAULT_AUGMENTATION });
    return { run, split, dataset, record };
  }

  /** What a run of these settings still has to store, and the plan that fits the browser's free space. */
  async storagePlan(settings: PageSettings, available?: number | null, failed: CutStorage[] = []): Promise<StoragePlan> {
    const plan = await this.plan(settings);
    const footprint = await runFootprint(plan, await this.describe(plan.run.settings));
    return chooseStorage(footprint, available === undefined ? await freeBytes() : available, failed);
  }

  /** Cuts a run down to the storage it has and says so. */
  async #fitStorage(plan: RunPlan, storage: StoragePlan, why = ''): Promise<void> {
    plan.run = await this.#runs.keep(withStorage(plan.run, storage.cut));
    if (storage.degraded) this.#emit('info', why + storage.message);
  }

  /**
   * The cache filled up during extraction: drops the run's cut activations (they free the most) and plans again
   * with the space that freed; with only pooled features left to store, trains on the images that are cached
   * (returns false: extraction is over).
   */
  async #shortOfSpace(plan: RunPlan): Promise<boolean> {
    if (plan.run.cutKey !== null) {
      const freed = await dropCutActivations(plan);
      const failed: CutStorage[] = plan.run.cutCodec === 'uint8' ? ['float16', 'uint8'] : ['float16'];
      await this.#fitStorage(plan, await this.storagePlan(plan.run.settings, freed, failed), 'Browser storage ran short during extraction. ');
      return true;
    }
    const { before, after } = await keepCachedImages(plan);
    this.#emit('info', `Browser storage is full: training on the ${after} of ${before} images whose features fit.`);
    return false;
  }

  /**
   * Fills the feature cache for a plan: only the views the cache lacks go through the base model. Images that
   * cannot be read are reported and dropped from the split. When the cache fills up the run is cut down
   * (#shortOfSpace) and extraction goes on, so it never ends with nothing to train.
   */
  async extract(plan: RunPlan, signal: AbortSignal): Promise<FarmProgress | null> {
    for (;;) {
      try {
        return await this.#extractMissing(plan, signal);
      } catch (error) {
        if (!isStorageFull(error) || signal.aborted) throw error;
        if (!(await this.#shortOfSpace(plan))) return this.lastExtraction;
      }
    }
  }

  async #extractMissing(plan: RunPlan, signal: AbortSignal): Promise<FarmProgress | null> {
    const { run, split, dataset, record } = plan;
    const { settings, pooledKey, cutKey } = run;
    const { augmentation } = run;
    this.farm = null;
    const train = new Set(split.train);
    const viewsOf = (imageId: string) => (train.has(imageId) ? Array.from({ length: settings.augmentViews + 1 }, (_, v) => v) : [0]);
    const wanted = (imageId: string, v: number) => [pooledKey, ...(cutKey ? [cutKey] : [])].map((key) => featureKey(key, imageId, v, augmentation));
    // Every image's keys in one cache transaction, not one per image.
    const missing = new Set(await missingKeys(dataset.images.flatMap(({ imageId }) => viewsOf(imageId).flatMap((v) => wanted(imageId, v)))));
    const farmImages: FarmImage[] = [];
    for (const image of dataset.images) {
      const needed = viewsOf(image.imageId).filter((v) => wanted(image.imageId, v).some((key) => missing.has(key)));
      if (needed.length > 0) farmImages.push({ key: image.imageId, imageId: image.imageId, views: needed, bytes: image.bytes });
    }
    if (farmImages.length === 0) {
      this.#emit('info', 'All features are already cached: no image goes through the base model again.');
      return null;
    }
    this.farm = new Farm(
      { workers: settings.workers, backend: settings.backend, maxChunkSize: settings.maxChunkSize },
      (p) => {
        this.lastExtraction = p;
        this.#emit('extract', p);
      },
    );
    const outcome = await this.farm.run(
      {
        datasetId: dataset.id,
        record,
        artifacts: await this.#artifacts.get(record.id)!,
        inputSize: settings.inputSize,
        fineTuneAt: cutKey ? settings.fineTuneAt : null,
        cutCodec: run.cutCodec,
        augmentation,
        images: farmImages,
      },
      signal,
    );
    const failed = new Set(outcome.failed.map((f) => f.key));
    for (const key of ['train', 'validation', 'test'] as const) split[key] = split[key].filter((id) => !failed.has(id));
    if (failed.size > 0) {
      const total = dataset.images.length;
      this.#emit('info', `Training on ${total - failed.size} of ${total} images: ${failed.size} could not be read (listed with the reason under Feature extraction).`);
    }
    return this.lastExtraction;
  }

  /** Runs extraction (only what the cache lacks) and then training; resumes a run from its last checkpoint. */
  start(settings: PageSettings, resume: RunRecord | null = null): Promise<void> {
    const running = this.#run(settings, resume);
    this.#running = running;
    return running;
  }

  async #run(settings: PageSettings, resume: RunRecord | null): Promise<void> {
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    try {
      const plan = await this.plan(settings, resume);
      // The trainer runs on the backend the run asks for (a no-op when it already does).
      await this.chooseModel(plan.record, plan.run.settings.backend);
      await this.#runs.keep(plan.run);
      // A new run is cut down to the free space up front; a resumed one keeps its stages.
      if (!resume) await this.#fitStorage(plan, await this.storagePlan(plan.run.settings));
      this.#setState('extracting');
      await this.extract(plan, signal);
      this.farm = null;
      // Cancelled, or paused as the last images came in: then training starts on resume.
      if (signal.aborted || this.state === 'paused') return;

      this.#setState('training');
      const { run, split, dataset } = plan;
      const labels = Object.fromEntries(dataset.images.map((i) => [i.imageId, dataset.classes.indexOf(i.class)]));
      let checkpointed: number | null = null;
      let kept = run;
      const outcome = await this.#callTrainer<TrainOutcome>((trainer, alive) => trainer.train(
        {
          runId: run.runId,
          datasetId: dataset.id,
          classes: dataset.classes,
          labels,
          split,
          settings: run.settings,
          inputSize: run.settings.inputSize,
          pooledKey: run.pooledKey,
          cutKey: run.cutKey,
          augmentation: run.augmentation,
          resume: resume !== null,
          fineTune: { workers: run.settings.workers, threads: threadsPerWorker(run.settings.workers) },
        },
        Comlink.proxy((event: TrainEvent) => {
          // Every event is a sign of life: a trainer that sends none for the bridge's limit counts as hung.
          alive();
          if (event.kind === 'epoch') {
            kept = withEpoch(kept, event.record.valAccuracy);
            // Only "Coming back" reads it: a record that fails to save does not stop the run.
            this.#runs.keep(kept).catch((error: Error) => console.warn(`Graft: run ${kept.runId} not saved after an epoch (${error.message})`));
          }
          if (event.kind === 'checkpoint') checkpointed = event.epoch;
          if (event.kind === 'notice') this.#emit('info', `${sentence(event.message)}.`);
          else this.#emit('train', event);
        }),
      ), this.trainerSilenceLimitMs).catch((error: unknown) => {
        throw error instanceof WorkerDiedError ? new TrainerLostError(error.message, checkpointed) : error;
      });
      // Stopped by Pause (the state says so already) or by Cancel: nothing more to do here.
      if (signal.aborted || !outcome.finished) return;
      this.#classifierRunId = run.runId;
      this.#emit('results', { history: outcome.history, evaluation: outcome.evaluation, inputSize: run.settings.inputSize });
      this.#setState('done');
      if (outcome.unsaved) this.#emit('error', outcome.unsaved);
    } catch (error) {
      if (signal.aborted) return;
      this.#emit('error', plainMessage(error));
      // The run lives on in its checkpoints: the stage ends, and Resume continues it in a fresh trainer.
      this.#setState(error instanceof TrainerLostError ? 'paused' : 'error');
    }
  }

  /** Ends one of the trainer's fine-tuning helpers as a crash would (tests: training goes on). */
  async terminateFineTuneHelper(index: number): Promise<void> {
    await this.#trainer?.interrupt((t) => t.terminateFineTuneHelper(index));
  }

  /** Extraction: stop handing out images. Training: stop after the current batch (resume restarts that epoch). */
  pause(): void {
    if (this.state === 'extracting') this.farm?.pause();
    if (this.state === 'training') void this.#trainer?.interrupt((t) => t.stop());
    this.#setState('paused');
  }

  /**
   * Continues a paused extraction, or a stopped training from its last checkpoint (the start of the epoch it
   * stopped in), once the trainer has ended the batch it was on.
   */
  async resume(): Promise<void> {
    const run = this.#runs.current;
    if (this.state !== 'paused' || !run) return;
    if (this.farm) {
      this.farm.resume();
      this.#setState('extracting');
      return;
    }
    // Leaving 'paused' at once disables Resume: one click, one run.
    this.#setState('extracting');
    await this.#running;
    // Cancelled meanwhile, or the stopped run ended in an error: nothing to resume.
    if ((this.state as SessionState) !== 'extracting') return;
    await this.start(run.settings, run);
  }

  cancel(): void {
    this.#abort?.abort();
    void this.#trainer?.interrupt((t) => t.stop());
    this.#setState('idle');
  }

  /** Continues a run a previous visit left: its dataset, model and settings come back first. */
  async resumeRun(runId: string): Promise<void> {
    const run = await this.#restoreRun(runId);
    await this.start(run.settings, run);
  }

  /** A new run with a finished run's dataset, model and settings. */
  async trainAgain(runId: string): Promise<void> {
    const run = await this.#restoreRun(runId);
    await this.start(run.settings);
  }

  /**
   * A finished run's saved classifier, ready for classify and export; its curves and results come as a
   * 'results' event when they were saved with it.
   */
  async openResults(runId: string): Promise<SavedClassifier> {
    const saved = await this.#callTrainer((t) => t.useSavedClassifier(runId));
    if (saved) this.#classifierRunId = runId;
    if (!saved) throw new Error('this run’s classifier is no longer saved on this browser: train it again');
    if (saved.history && saved.evaluation) this.#emit('results', { history: saved.history, evaluation: saved.evaluation, inputSize: saved.inputSize });
    return saved;
  }

  /** Chooses a saved run's dataset and model again. */
  async #restoreRun(runId: string): Promise<RunRecord> {
    const run = await this.#runs.load(runId);
    if (!run) throw new Error('this run is unknown on this browser');
    if (isDroppedFolderId(run.datasetId) && this.dataset?.id !== run.datasetId) {
      throw new Error('this run trained on a dropped folder: drop the same folder again, then resume');
    }
    if (this.dataset?.id !== run.datasetId) await this.chooseDataset(run.datasetId);
    const { models } = await this.catalog();
    const record = models.find((m) => m.id === run.modelId);
    if (!record) throw new Error(`the base model ${run.modelId} is no longer on this server`);
    await this.chooseModel(record, run.settings.backend);
    return run;
  }

  /** What this browser holds: cached features, and the runs that can be resumed (checkpoint and run record). */
  async cacheOverview(): Promise<{
    features: CacheSummaryEntry[];
    runs: (CheckpointSummary & { run: RunRecord; hasClassifier: boolean })[];
    persisted: boolean;
  }> {
    const [features, checkpoints, classifiers, known, persisted] = await Promise.all([
      summary(),
      listCheckpoints(),
      listClassifiers(),
      this.#runs.list(),
      navigator.storage?.persisted?.() ?? Promise.resolve(false),
    ]);
    const saved = new Set(classifiers.map((c) => c.runId));
    const byId = new Map(known.map((run) => [run.runId, run]));
    const runs = checkpoints.flatMap((c) => {
      const run = byId.get(c.runId);
      return run ? [{ ...c, run, hasClassifier: saved.has(c.runId) }] : [];
    });
    return { features, runs, persisted };
  }

  /** Deletes everything Graft keeps on this browser: features, checkpoints, classifiers and the runs' records. */
  async clearCache(): Promise<void> {
    await clearEverything();
    this.#runs.forget();
    this.#classifierRunId = null;
    await this.#trainer?.call(undefined, (t) => t.forgetClassifier());
  }

  /**
   * Makes the newest classifier saved on this browser (by this page's model's runs or any other) ready for
   * classify and export, so a visitor who comes back can use it without training again.
   */
  async restoreClassifier(): Promise<SavedClassifier | null> {
    const [newest] = await listClassifiers();
    if (!newest) return null;
    const restored = await this.#callTrainer((t) => t.useSavedClassifier(newest.runId));
    if (restored) this.#classifierRunId = newest.runId;
    return restored;
  }

  classify(file: Blob): Promise<Classification[]> {
    return this.#callTrainer((t) => t.classify(file, 3));
  }

  /** Every class's probability for one camera frame (Live); the frame is transferred to the trainer, which closes it. */
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
    return this.#callTrainer((t) => t.classifyFrame(Comlink.transfer(frame, [frame])));
  }

  exportModel(quantization: 'float32' | 'float16' | 'uint8') {
    return this.#callTrainer((t) => t.exportModel(quantization));
  }

  /** The classifier as a .tflite file of `kind`, checked in LiteRT.js on the held-out images (tflite-export.ts). */
  exportTflite(kind: TfliteKind): Promise<CheckedTflite> {
    // The casts undo Comlink's Remote, which turns a union result into a union of promises.
    const trainer: TfliteTrainer = {
      tfliteImageIds: () => this.#callTrainer((t) => t.tfliteImageIds()) as ReturnType<TfliteTrainer['tfliteImageIds']>,
      exportTflite: (...args) => this.#callTrainer((t) => t.exportTflite(...args)) as ReturnType<TfliteTrainer['exportTflite']>,
    };
    return checkedTflite(trainer, this.dataset, this.model!, kind);
  }
}

/** The trainer worker crashed or hung mid-training: its run's checkpoints are intact. */
class TrainerLostError extends Error {
  override name = 'TrainerLostError';

  /** @param epochsSaved epochs the run's last checkpoint of this stage holds (null: none saved in it) */
  constructor(reason: string, epochsSaved: number | null) {
    const from = epochsSaved === null ? 'its last checkpoint' : `its checkpoint after epoch ${epochsSaved}`;
    super(`Training stopped: ${reason}. Nothing saved is lost: Resume continues the run from ${from}.`);
  }
}

/** An error as a visitor should read it (no stack, no "Error:" prefix). */
export function plainMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
