/**
 * One visitor's session, the page's controller: the dataset and base model chosen, and a run through its states
 * (session-state.ts): plan (run-planner.ts), extraction of what the cache lacks (extraction.ts), training in the
 * trainer worker (trainer-client.ts), pause, resume and cancel. Its runs are runs.ts's; what it does is told
 * through typed events; the classifier a run leaves is classifier.ts's to use. It never touches pixels or tensors:
 * the workers do. `window.graft.session` is this.
 */
import type { DatasetRecord, ModelRecord } from '../../shared/records';
import type { BackendChoice, BackendReport } from '../../shared/farm';
import type { ModelSummary, SavedClassifier } from '../../shared/trainer-messages';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import type { RunRecord, RunSettingsInput } from '../../shared/run-record';
import type { RunState } from '../../shared/training';
import { listDatasets, listModels, requestCounter, requestLimits } from '../api/storage-client';
import { clearEverything } from '../cache/connection';
import type { Farm, FarmProgress } from '../farm/farm';
import { comingBack, type ComingBack } from './coming-back';
import { datasetOfId, droppedFolder, isDroppedFolderId, onDeviceDataset, type DatasetChoice } from './dataset-source';
import { Extraction } from './extraction';
import { ModelDownloads } from './model-downloads';
import { fitToStorage, planRun, type PageSettings, type RunPlan } from './run-planner';
import { storagePlan } from './run-storage';
import { Runs, withEpoch } from './runs';
import { SessionMachine, type Listener, type SessionEvents } from './session-state';
import type { CutStorage, StoragePlan } from './storage-plan';
import { sentence } from './text/backend-text';
import { plainMessage } from './text/format';
import { TrainerClient, TrainerLostError } from './trainer-client';

export class Session {
  dataset: DatasetChoice | null = null;
  model: ModelRecord | null = null;
  readonly #machine = new SessionMachine();
  readonly #runs = new Runs();
  readonly #downloads = new ModelDownloads();
  /** The trainer worker's client: runs train there; the classifier in use lives there too (classifier.ts asks it). */
  readonly trainer = new TrainerClient(this.#downloads, {
    onReport: (report) => this.#machine.emit('trainer', report),
    onInfo: (message) => this.#machine.emit('info', message),
  });
  readonly #extraction = new Extraction({
    progress: (progress) => this.#machine.emit('extract', progress),
    info: (message) => this.#machine.emit('info', message),
  });
  #abort: AbortController | null = null;
  /** The start() under way (or last settled): a resume waits for a stopped training to end its batch. */
  #running: Promise<void> | null = null;

  get state(): RunState {
    return this.#machine.state;
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof SessionEvents>(event: K, listener: Listener<K>): () => void {
    return this.#machine.on(event, listener);
  }

  off<K extends keyof SessionEvents>(event: K, listener: Listener<K>): void {
    this.#machine.off(event, listener);
  }

  /** The farm of the extraction in progress (tests terminate one of its workers). */
  get farm(): Farm | null {
    return this.#extraction.farm;
  }

  /** The last progress the farm reported. */
  get lastExtraction(): FarmProgress | null {
    return this.#extraction.last;
  }

  /** Longest a request to the server may stall before its try is given up and tried again (storage-client.ts). */
  get requestStallLimitMs(): number {
    return requestLimits.stallMs;
  }

  set requestStallLimitMs(ms: number) {
    requestLimits.stallMs = ms;
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

  async catalog(): Promise<{ datasets: DatasetRecord[]; models: ModelRecord[] }> {
    const [datasets, models] = await Promise.all([listDatasets(), listModels()]);
    return { datasets, models };
  }

  /** A stored dataset, or the classes built in the page as they were when a run of `id` used them. */
  async chooseDataset(id: string): Promise<DatasetChoice> {
    this.dataset = await datasetOfId(id);
    return this.dataset;
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
  chooseModel(record: ModelRecord, backend: BackendChoice): Promise<BackendReport> {
    if (record.id !== this.model?.id) this.#machine.emit('model', record);
    this.model = record;
    return this.trainer.choose(record, backend);
  }

  /** The chosen base's layer names, up to its bottleneck (the layers its summary lists). */
  baseLayerNames(): Promise<string[]> {
    return this.trainer.layerNames();
  }

  describe(settings: RunSettingsInput): Promise<ModelSummary> {
    return this.trainer.describe(settings, this.dataset?.classes.length ?? 2);
  }

  /** The first image of the dataset and nine augmented views of it, as training will see them. */
  async augmentationPreview(settings: RunSettingsInput): Promise<ImageBitmap[]> {
    const image = this.dataset?.images[0];
    if (!image) throw new Error('choose a dataset first');
    return this.trainer.previewAugmentation(await image.bytes(), image.imageId, settings.inputSize, DEFAULT_AUGMENTATION);
  }

  /** The run a start() would make (or continue): split, cache keys and identity. */
  async plan(settings: PageSettings, resume: RunRecord | null = null): Promise<RunPlan> {
    if (!this.dataset || !this.model) throw new Error('choose a dataset and a base model first');
    return planRun(this.dataset, this.model, settings, resume, (s) => this.describe(s));
  }

  /** What a run of these settings still has to store, and the plan that fits the browser's free space. */
  async storagePlan(settings: PageSettings): Promise<StoragePlan> {
    const plan = await this.plan(settings);
    return storagePlan(plan, await this.describe(plan.run.settings));
  }

  /** The plan cut down to `storage` (its record kept), said when it was cut down. */
  async #fit(plan: RunPlan, storage: StoragePlan, why = ''): Promise<RunPlan> {
    const fitted = fitToStorage(plan, storage);
    await this.#runs.keep(fitted.run);
    if (storage.degraded) this.#machine.emit('info', why + storage.message);
    return fitted;
  }

  /** The cache filled during extraction: the plan fitted again to the space that freed. */
  async #refit(plan: RunPlan, available: number | null, failed: CutStorage[]): Promise<RunPlan> {
    const storage = await storagePlan(plan, await this.describe(plan.run.settings), available, failed);
    return this.#fit(plan, storage, 'Browser storage ran short during extraction. ');
  }

  /** Fills the feature cache for a plan (only what it lacks; extraction.ts); the farm's last progress. */
  async extract(plan: RunPlan, signal: AbortSignal): Promise<FarmProgress | null> {
    return (await this.#extract(plan, signal)).progress;
  }

  async #extract(plan: RunPlan, signal: AbortSignal) {
    const artifacts = await this.#downloads.get(plan.record);
    return this.#extraction.run(plan, artifacts, signal, (p, available, failed) => this.#refit(p, available, failed));
  }

  /** Runs extraction (only what the cache lacks) and then training; resumes a run from its last checkpoint. */
  start(settings: PageSettings, resume: RunRecord | null = null): Promise<void> {
    // The last classifier's TFLite builds would hold the trainer: they stop (classifier.ts).
    this.#machine.emit('runStarting', null);
    const running = this.#run(settings, resume);
    this.#running = running;
    return running;
  }

  async #run(settings: PageSettings, resume: RunRecord | null): Promise<void> {
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    try {
      let plan = await this.plan(settings, resume);
      // The trainer runs on the backend the run asks for (a no-op when it already does).
      await this.chooseModel(plan.record, plan.run.settings.backend);
      await this.#runs.keep(plan.run);
      // A new run is cut down to the free space up front; a resumed one keeps its stages.
      if (!resume) plan = await this.#fit(plan, await storagePlan(plan, await this.describe(plan.run.settings)));
      this.#machine.to('extracting');
      plan = (await this.#extract(plan, signal)).plan;
      this.#extraction.release();
      // Cancelled, or paused as the last images came in: then training starts on resume.
      if (signal.aborted || this.state === 'paused') return;
      this.#machine.to('training');
      await this.#train(plan, resume !== null, signal);
    } catch (error) {
      if (signal.aborted) return;
      this.#machine.emit('error', plainMessage(error));
      // The run lives on in its checkpoints: the stage ends, and Resume continues it in a fresh trainer.
      this.#machine.to(error instanceof TrainerLostError ? 'paused' : 'error');
    }
  }

  async #train(plan: RunPlan, resume: boolean, signal: AbortSignal): Promise<void> {
    let kept = plan.run;
    const outcome = await this.trainer.train(plan, resume, (event) => {
      if (event.kind === 'epoch') {
        kept = withEpoch(kept, event.record.valAccuracy);
        // Only "Coming back" reads it: a record that fails to save does not stop the run.
        this.#runs.keep(kept).catch((error: Error) => console.warn(`Graft: run ${kept.runId} not saved after an epoch (${error.message})`));
      }
      if (event.kind === 'notice') this.#machine.emit('info', `${sentence(event.message)}.`);
      else this.#machine.emit('train', event);
    });
    // Stopped by Pause (the state says so already) or by Cancel: nothing more to do here.
    if (signal.aborted || !outcome.finished) return;
    this.#machine.emit('results', { history: outcome.history, evaluation: outcome.evaluation, inputSize: plan.run.settings.inputSize });
    this.#machine.to('done');
    this.#machine.emit('classifier', plan.record);
    if (outcome.unsaved) this.#machine.emit('error', outcome.unsaved);
  }

  /** Extraction: stop handing out images. Training: stop after the current batch (resume restarts that epoch). */
  pause(): void {
    if (this.state === 'extracting') this.#extraction.pause();
    else if (this.state === 'training') this.trainer.stop();
    else return;
    this.#machine.to('paused');
  }

  /**
   * Continues a paused extraction, or a stopped training from its last checkpoint (the start of the epoch it
   * stopped in), once the trainer has ended the batch it was on.
   */
  async resume(): Promise<void> {
    const run = this.#runs.current;
    if (this.state !== 'paused' || !run) return;
    if (this.#extraction.farm) {
      this.#extraction.resume();
      this.#machine.to('extracting');
      return;
    }
    // Leaving 'paused' at once disables Resume: one click, one run.
    this.#machine.to('extracting');
    await this.#running;
    // Cancelled meanwhile, or the stopped run ended in an error: nothing to resume.
    if ((this.state as RunState) !== 'extracting') return;
    await this.start(run.settings, run);
  }

  cancel(): void {
    this.#abort?.abort();
    this.trainer.stop();
    this.#machine.to('idle');
  }

  /**
   * Chooses a saved run's dataset and model again, ready for start(run.settings, run) (resume) or
   * start(run.settings) (a new run like it).
   */
  async restoreRun(runId: string): Promise<RunRecord> {
    const run = await this.#runs.load(runId);
    if (!run) throw new Error('this run is unknown on this browser');
    if (isDroppedFolderId(run.datasetId) && this.dataset?.id !== run.datasetId) {
      throw new Error('this run trained on a dropped folder: drop the same folder again, then resume');
    }
    if (this.dataset?.id !== run.datasetId) await this.chooseDataset(run.datasetId);
    await this.#chooseModelOf(run);
    return run;
  }

  /**
   * The base model `run` trained on, chosen again: its classifier answers only on its own base. The page has
   * usually chosen it already (showing the run): then the server's list is not asked again.
   */
  async #chooseModelOf(run: RunRecord): Promise<void> {
    const record = this.model?.id === run.modelId ? this.model : (await listModels()).find((m) => m.id === run.modelId);
    if (!record) throw new Error(`the base model ${run.modelId} is no longer on this server`);
    await this.chooseModel(record, run.settings.backend);
  }

  /**
   * A finished run's saved classifier on its own base model (chosen again), ready for classify and export; its curves
   * and results come as a 'results' event when they were saved with it.
   */
  async openResults(runId: string): Promise<SavedClassifier> {
    const run = await this.#runs.load(runId);
    if (run) await this.#chooseModelOf(run);
    const saved = await this.trainer.useSaved(runId);
    if (!saved) throw new Error('this run’s classifier is no longer saved on this browser: train it again');
    if (saved.history && saved.evaluation) this.#machine.emit('results', { history: saved.history, evaluation: saved.evaluation, inputSize: saved.inputSize });
    if (this.model) this.#machine.emit('classifier', this.model);
    return saved;
  }

  /** What this browser holds, for "Coming back" (coming-back.ts), named after the server's `models`. */
  cacheOverview(models: readonly ModelRecord[]): Promise<ComingBack> {
    return comingBack(this.#runs, models);
  }

  /** Deletes everything Graft keeps on this browser: features, checkpoints, classifiers and the runs' records. */
  async clearCache(): Promise<void> {
    await clearEverything();
    this.#runs.forget();
    this.#machine.emit('classifier', null);
    await this.trainer.forgetClassifier();
  }
}
