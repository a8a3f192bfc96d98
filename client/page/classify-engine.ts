/**
 * Which engine answers "classify a photo" and Live on the trainer's page, and why. Once a classifier exists (a
 * run finished, a saved one was restored or opened) the trainer worker writes it as a float32 .tflite file, the
 * LiteRT.js classifier worker compiles it, and it answers from then on if it gives the TF.js classifier's
 * probabilities on test pictures (within PROBE_TOLERANCE). Then the int8 file is built and checked on the
 * held-out photos (the export's own check, shared with the export panel); LiteRT.js runs it instead where its
 * top-1 agrees with TF.js closely enough (runnableKind, the rule a publication's page follows too). Until a file is ready, when LiteRT.js fails to
 * load, compile or match, and if it dies later, the trainer worker's TF.js classifier answers (the path the page
 * had before), and the status says which engine answers and why. The builds run in the trainer worker, so a new run
 * stops them (stopBuilding) rather than queue behind them; what they made is dropped.
 */
import type { ClassifierReport } from '../../shared/classifier';
import type { ModelRecord } from '../../shared/records';
import type { Classification, FrameClassification, TfliteKind } from '../../shared/trainer-messages';
import type { Classifier } from '../classifier/classifier';
import { LiteRtClassifier } from '../classifier/litert-classifier';
import { runnableKind, type CheckedTflite } from '../tflite/verdict';
import type { DatasetChoice } from './dataset-source';
import { describeClassifier } from './text/backend-text';
import { formatPercent, plainMessage } from './text/format';
import { checkedTflite, type TfliteTrainer } from './tflite-export';

/** Largest |LiteRT.js - TF.js| of a class probability on the test pictures for the float32 file to be used. */
export const PROBE_TOLERANCE = 1e-3;

/** Which engine answers, in words for the runtime line. */
export interface EngineStatus {
  /** none: no classifier yet. */
  engine: 'litert' | 'tfjs' | 'none';
  /** e.g. "LiteRT.js WASM · relaxed SIMD · 1 thread · float32 file" or "TF.js in the trainer worker (<why>)". */
  text: string;
}

/** The TF.js side: the trainer worker's classifier, and the calls that write its TFLite files (stopped by `signal`). */
export interface TrainerClassifier {
  classify(image: Blob): Promise<Classification[]>;
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification>;
  tflite(signal: AbortSignal): TfliteTrainer;
}

/** What a classifier's files are built and checked for. */
export interface EngineContext {
  model: ModelRecord;
  /** The dataset chosen now: the int8 file is checked on its held-out photos when it is the classifier's. */
  dataset: DatasetChoice | null;
}

const onTrainer = (why: string): EngineStatus => ({ engine: 'tfjs', text: `TF.js in the trainer worker (${why})` });
const NO_CLASSIFIER: EngineStatus = { engine: 'none', text: 'no classifier yet' };
const BUILDING = 'until the classifier’s TFLite file is built and checked';

/** Test pictures for the self-check: smooth colour patterns of a camera frame's size, as the camera gives them. */
function probeFrames(): Promise<ImageBitmap[]> {
  const [width, height] = [320, 240];
  return Promise.all(
    [0.05, 0.11].map((frequency) => {
      const rgba = new Uint8ClampedArray(width * height * 4);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const o = (y * width + x) * 4;
          for (let c = 0; c < 3; c++) rgba[o + c] = 127.5 + 127.5 * Math.sin(x * frequency * (c + 1) + y * frequency * 1.4);
          rgba[o + 3] = 255;
        }
      }
      return createImageBitmap(new ImageData(rgba, width, height));
    }),
  );
}

export class ClassifyEngine implements Classifier {
  readonly #liteRt = new LiteRtClassifier();
  /** LiteRT.js answers (its file compiled and checked); otherwise the trainer does. */
  #liteRtAnswers = false;
  /** Bumped whenever the classifier changes: work for an older one ends quietly. */
  #generation = 0;
  /** The checked TFLite files of the current classifier (the export panel asks for the same ones). */
  #checked = new Map<TfliteKind, Promise<CheckedTflite>>();
  /** Stops the current classifier's TFLite builds (a new run starts, another classifier comes, it is deleted). */
  #builds = new AbortController();
  #status: EngineStatus = NO_CLASSIFIER;
  /** Why no classifier answers though one exists (another base model is chosen), or null. */
  #setAside: string | null = null;

  constructor(
    private readonly trainer: TrainerClassifier,
    private readonly onStatus: (status: EngineStatus) => void,
  ) {}

  get status(): EngineStatus {
    return this.#status;
  }

  #setStatus(status: EngineStatus): void {
    this.#status = status;
    this.onStatus(status);
  }

  /** Work for the classifier so far ends: its builds stop and their partial results are dropped. */
  #nextGeneration(why: string): number {
    this.#builds.abort(new Error(`the TFLite build was stopped: ${why}`));
    this.#builds = new AbortController();
    this.#checked.clear();
    return ++this.#generation;
  }

  /** The classifier went ("Delete everything"): the trainer answers (that there is none) and LiteRT.js stops. */
  forget(): void {
    this.#nextGeneration('the classifier was deleted');
    this.#setAside = null;
    this.#liteRtAnswers = false;
    this.#liteRt.terminate('the classifier was deleted');
    this.#setStatus(NO_CLASSIFIER);
  }

  /**
   * A classifier came: TF.js answers until its float32 file is built, compiled and checked, then LiteRT.js does;
   * then the int8 file where it agrees enough. Resolves when that is settled (never rejects: failures are said in
   * the status).
   */
  async prepare(context: EngineContext): Promise<void> {
    const generation = this.#nextGeneration('another classifier came');
    this.#setAside = null;
    this.#liteRtAnswers = false;
    this.#setStatus(onTrainer(BUILDING));
    const current = () => generation === this.#generation;
    try {
      const float32 = await this.trainer.tflite(this.#builds.signal).exportTflite('float32', [], { images: [], labels: [] });
      if (!current()) return;
      const report = await this.#liteRt.start({
        file: float32.file,
        kind: 'float32',
        classes: float32.labels,
        inputType: float32.signature.input.type,
        preprocessing: context.model.preprocessing,
      });
      const mismatch = await this.#selfCheck();
      if (!current()) return;
      if (mismatch) return this.#setStatus(onTrainer(`LiteRT.js failed its check against TF.js: ${mismatch}`));
      this.#liteRtAnswers = true;
      this.#setStatus({ engine: 'litert', text: describeClassifier(report) });
    } catch (error) {
      if (current()) this.#setStatus(onTrainer(plainMessage(error)));
      return;
    }
    await this.#tryInt8(context, generation);
  }

  /**
   * The classifier is not the chosen base model's (`why` says so): nothing answers, and classify, Live and the
   * TFLite export refuse with `why`, until prepare() (its base chosen again, or another classifier came).
   */
  setAside(why: string): void {
    this.#nextGeneration('another base model was chosen');
    this.#setAside = why;
    this.#liteRtAnswers = false;
    this.#liteRt.terminate(why);
    this.#setStatus(NO_CLASSIFIER);
  }

  /** Throws why no classifier answers when it is set aside (setAside()). */
  ensureCurrent(): void {
    if (this.#setAside) throw new Error(this.#setAside);
  }

  /**
   * A run starts: the builds for the classifier in use stop at once (the run would otherwise queue behind them in
   * the trainer) and what they made is dropped. The engine answering goes on answering, the classifier being the
   * same until the run's own comes (prepare()); one still waiting for its file says the build was stopped.
   */
  stopBuilding(): void {
    this.#nextGeneration('a new run started');
    if (this.#status.text === onTrainer(BUILDING).text) this.#setStatus(onTrainer('its TFLite file was not built: a new run started'));
  }

  /** How far LiteRT.js's probabilities are from TF.js's on the test pictures, in words, or null when within tolerance. */
  async #selfCheck(): Promise<string | null> {
    for (const frame of await probeFrames()) {
      const copy = await createImageBitmap(frame);
      const [expected, actual] = await Promise.all([this.trainer.classifyFrame(frame), this.#liteRt.classifyFrame(copy)]);
      const difference = Math.max(...Array.from(expected.probabilities, (p, i) => Math.abs(p - actual.probabilities[i])));
      if (!(difference <= PROBE_TOLERANCE)) {
        return `a class probability differs by ${difference.toExponential(2)} on a test picture (at most ${PROBE_TOLERANCE} is allowed)`;
      }
    }
    return null;
  }

  /** Switches LiteRT.js to the int8 file when its check on the held-out photos agrees enough with TF.js. */
  async #tryInt8(context: EngineContext, generation: number): Promise<void> {
    let checked: CheckedTflite;
    try {
      checked = await this.checkedTflite('int8', context);
    } catch {
      // The held-out photos are not at hand (another dataset is chosen, or its split is no longer stored): float32 stays.
      return;
    }
    if (generation !== this.#generation || runnableKind(checked) !== 'int8') return;
    let report: ClassifierReport;
    try {
      report = await this.#liteRt.start({
        file: checked.file,
        kind: 'int8',
        classes: checked.labels,
        inputType: checked.signature.input.type,
        preprocessing: context.model.preprocessing,
      });
    } catch (error) {
      if (generation === this.#generation) this.#fallBack(error);
      return;
    }
    if (generation !== this.#generation) return;
    this.#setStatus({ engine: 'litert', text: `${describeClassifier(report)} (its top class is TF.js’s on ${formatPercent(checked.check?.agreement ?? 0)} of the held-out photos)` });
  }

  /**
   * The classifier as a checked .tflite file of `kind` (tflite-export.ts), built once per classifier: the export
   * panel and the int8 choice share it. A failure is not kept, so a later ask tries again.
   */
  checkedTflite(kind: TfliteKind, context: EngineContext): Promise<CheckedTflite> {
    this.ensureCurrent();
    let checked = this.#checked.get(kind);
    if (!checked) {
      const { signal } = this.#builds;
      checked = checkedTflite(this.trainer.tflite(signal), context.dataset, context.model, kind, signal);
      this.#checked.set(kind, checked);
      const generation = this.#generation;
      checked.catch(() => generation === this.#generation && this.#checked.delete(kind));
    }
    return checked;
  }

  /** LiteRT.js failed while answering: the trainer answers from now on, and the status says why. */
  #fallBack(error: unknown): void {
    this.#liteRtAnswers = false;
    this.#setStatus(onTrainer(`LiteRT.js stopped (${plainMessage(error)})`));
  }

  async classify(image: Blob): Promise<Classification[]> {
    this.ensureCurrent();
    if (this.#liteRtAnswers) {
      try {
        return await this.#liteRt.classify(image);
      } catch (error) {
        // A file that is not a decodable image is refused as the trainer would refuse it; anything else is LiteRT.js's.
        if ((error as Error).name === 'UndecodableImageError') throw error;
        this.#fallBack(error);
      }
    }
    return this.trainer.classify(image);
  }

  /**
   * The frame goes to the engine that answers; null when LiteRT.js failed on it (the frame went with it): Live
   * takes the next one, which the trainer answers.
   */
  async classifyFrame(frame: ImageBitmap): Promise<FrameClassification | null> {
    if (this.#setAside) {
      frame.close();
      throw new Error(this.#setAside);
    }
    if (!this.#liteRtAnswers) return this.trainer.classifyFrame(frame);
    try {
      return await this.#liteRt.classifyFrame(frame);
    } catch (error) {
      this.#fallBack(error);
      return null;
    }
  }
}
