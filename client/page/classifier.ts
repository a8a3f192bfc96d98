/**
 * The classifier in use on the trainer's page, and all that is asked of it: classify a photo and Live (on the
 * engine classify-engine.ts chooses: LiteRT.js once its TFLite file is built and checked, else the trainer's
 * TF.js), both exports, which engine answers, and the run it came from (Publish). It follows its session: a
 * classifier came (a run finished, a saved one was restored or opened) or went ("Delete everything"); a run
 * starts (the last classifier's TFLite builds stop: the run must not queue behind them in the trainer); a base
 * model is chosen (another base's classifier is set aside, and refuses, until its own base is chosen again).
 * main.ts makes it beside the session; `window.graft.classifier` is this.
 */
import type { Classifier } from '../classifier/classifier';
import type { ModelRecord } from '../../shared/records';
import type { Classification, FrameClassification, SavedClassifier, TfliteKind, WeightQuantization } from '../../shared/trainer-messages';
import { listClassifiers } from '../cache/classifier-store';
import type { CheckedTflite } from '../tflite/verdict';
import { ClassifyEngine, type EngineStatus } from './classify-engine';
import type { DatasetChoice } from './dataset-source';
import type { PublicationSource } from './publication-input';
import type { Session } from './session';

export interface ClassifierEvents {
  /** Which engine answers classify and Live, and why. */
  status: EngineStatus;
  /** Why the classifier is set aside (another base model is chosen), or null once it is the chosen base's. */
  aside: string | null;
}

type Listener<K extends keyof ClassifierEvents> = (value: ClassifierEvents[K]) => void;

export class PageClassifier implements Classifier, PublicationSource {
  readonly #session: Session;
  readonly #engine: ClassifyEngine;
  /** The engine's preparation for the classifier in use (settled once it is known which engine answers). */
  #prepared: Promise<void> = Promise.resolve();
  /** The base model the classifier in use was trained, restored or opened with; null: no classifier. */
  #base: ModelRecord | null = null;
  readonly #listeners: { [K in keyof ClassifierEvents]: Set<Listener<K>> } = { status: new Set(), aside: new Set() };

  constructor(session: Session) {
    this.#session = session;
    this.#engine = new ClassifyEngine(session.trainer, (status) => this.#emit('status', status));
    session.on('runStarting', () => this.#engine.stopBuilding());
    session.on('classifier', (base) => (base ? this.#came(base) : this.#forget()));
    session.on('model', (record) => this.#follow(record));
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClassifierEvents>(event: K, listener: Listener<K>): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  #emit<K extends keyof ClassifierEvents>(event: K, value: ClassifierEvents[K]): void {
    for (const listener of this.#listeners[event]) listener(value);
  }

  /** A classifier came for `base`: classify and Live move to LiteRT.js once its file is built and checked. */
  #came(base: ModelRecord): void {
    this.#base = base;
    this.#prepared = this.#engine.prepare({ model: base, dataset: this.#session.dataset });
    this.#emit('aside', null);
  }

  /**
   * The newest classifier saved on this browser: its run and the base model that run trained on (null when the
   * run's record is unknown). null: no classifier is saved.
   */
  async newestSaved(): Promise<{ runId: string; baseId: string | null } | null> {
    const [newest] = await listClassifiers();
    if (!newest) return null;
    return { runId: newest.runId, baseId: (await this.#session.loadRun(newest.runId))?.modelId ?? null };
  }

  /**
   * Makes the saved classifier of `runId` ready for classify and export on the base chosen now (its own, chosen
   * first: newestSaved says which), so a visitor who comes back can use it without training again.
   */
  async restore(runId: string): Promise<SavedClassifier | null> {
    const saved = await this.#session.trainer.useSaved(runId);
    if (saved && this.#session.model) this.#came(this.#session.model);
    return saved;
  }

  #forget(): void {
    this.#base = null;
    this.#engine.forget();
  }

  /**
   * A base model chosen without training: the classifier (trained on another base) is set aside, as the classify
   * panel and Live say; its own base chosen again (the page still shows its run's results) brings it back.
   */
  #follow(record: ModelRecord): void {
    const base = this.#base;
    if (!base) return;
    if (record.id === base.id) return this.#came(base);
    const why = `No classifier for this base model yet: train one, or choose ${base.name} again to use the one trained on it.`;
    this.#engine.setAside(why);
    this.#prepared = Promise.resolve();
    this.#emit('aside', why);
  }

  /** Which engine answers classify and Live now, and why. */
  get engine(): EngineStatus {
    return this.#engine.status;
  }

  /** Settles once the engine for the classifier in use is chosen (its TFLite files built and checked, or not). */
  get engineReady(): Promise<void> {
    return this.#prepared;
  }

  /** The base model of the classifier in use (its preprocessing is the files'), or null. */
  get model(): ModelRecord | null {
    return this.#base;
  }

  /** The dataset chosen now (a TFLite file is checked on its held-out photos when it is the classifier's). */
  get dataset(): DatasetChoice | null {
    return this.#session.dataset;
  }

  /** The run whose classifier classify and export use (trained here, restored or opened), or null. */
  get classifierRunId(): string | null {
    return this.#session.trainer.classifierRunId;
  }

  classify(image: Blob): Promise<Classification[]> {
    return this.#engine.classify(image);
  }

  /** Every class's probability for one camera frame (Live); the frame is transferred to a worker, which closes it. */
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification | null> {
    return this.#engine.classifyFrame(frame);
  }

  async exportModel(quantization: WeightQuantization): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
    this.#engine.ensureCurrent();
    return this.#session.trainer.exportModel(quantization);
  }

  /** The classifier as a .tflite file of `kind`, checked in LiteRT.js on the held-out images (tflite-export.ts). */
  async exportTflite(kind: TfliteKind): Promise<CheckedTflite> {
    if (!this.#base) throw new Error('train a classifier first');
    return this.#engine.checkedTflite(kind, { model: this.#base, dataset: this.#session.dataset });
  }
}
