/**
 * The trainer's Web Worker: holds the only live copy of the base and the trained classifier, reads features from
 * the cache, trains (stage 1 and 2), saves a checkpoint after every epoch and the finished classifier in
 * IndexedDB, and answers classify / Live frame / export / augmentation-preview requests. The page trades plain data
 * with it.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendChoice, BackendReport, ModelArtifactsData } from '../../../shared/farm';
import type { Augmentation } from '../../../shared/augmentation';
import { topClasses } from '../../../shared/classifier';
import type { ModelRecord } from '../../../shared/records';
import type { EpochRecord, History, SplitAssignment, TrainingState, TrainSettings } from '../../../shared/training';
import type {
  BatchProgress,
  Classification,
  FrameClassification,
  ModelSummary,
  PreparedTflite,
  SavedClassifier,
  TfliteKind,
  TrainEvent,
  TrainOutcome,
  TrainRequest,
  WeightQuantization,
} from '../../../shared/trainer-messages';
import { loadCheckpoint, saveCheckpoint } from '../../cache/checkpoint-store';
import { loadClassifier, saveClassifier } from '../../cache/classifier-store';
import { StorageFullError } from '../../cache/errors';
import { augment, augmentParams } from '../../engine/augment';
import { selectBackend } from '../../engine/backend';
import { bitmapPixels, decodeImage } from '../../engine/decode';
import { roundedPixels, type RgbaPixels } from '../../engine/pixels';
import { normalise, resizeToSquare } from '../../engine/preprocess';
import { loadBaseModel, summariseBase } from '../../engine/base-model';
import { evaluate } from '../evaluate';
import { buildClassifier, exportLayersModel } from '../export';
import { FoldError, type FoldedGraph } from '../../engine/fold';
import { foldModel } from '../../engine/fold-model';
import { buildHead } from '../head';
import { releaseModels } from '../../engine/release';
import { runFolded } from '../../engine/run-folded';
import { splitSamples } from '../sources';
import { resumeTraining, train, type TrainingData, type TrainResult } from '../train';
import { registerWasmBackpropKernels } from '../wasm-backprop-kernels';
import { exportTflite } from '../../tflite/export-tflite';
import { toArtifacts } from './artifacts';
import { loadInMemory, streamFromCache } from './cached-source';
import { HelperPool } from './helper-pool';

/** Training images an int8 export calibrates on (spread evenly over the training split). */
export const CALIBRATION_IMAGES = 300;

interface Loaded {
  artifacts: tf.io.ModelArtifacts;
  /** The same as the page sent them, for fine-tuning helpers. */
  artifactsData: ModelArtifactsData;
  record: ModelRecord;
  report: BackendReport;
}

let loaded: Promise<Loaded> | null = null;
let classifier: { model: tfl.LayersModel; classes: string[]; inputSize: number; runId: string; split: SplitAssignment | null } | null = null;
let stopper: AbortController | null = null;
/** The TFLite export in progress: stopTflite() ends it at its next image (a new run must not wait for it). */
let tfliteStopper: AbortController | null = null;
/** Stage 2's helper workers while a run that fine-tunes is on. */
let helperPool: HelperPool | null = null;
/**
 * The classifier folded into a plain op list (fold.ts, as the TFLite export folds it), made on Live's first frame:
 * per frame it runs about 2.5x faster than the layers model, with the same probabilities within 1e-4
 * (test/node/run-folded.test.ts). Null: the classifier has a layer the fold cannot express, and Live runs the
 * layers model.
 */
let liveGraph: FoldedGraph | null | undefined;

/** The backend and base, once init() has started them: every tf op of this worker waits for it. */
async function ready(): Promise<Loaded> {
  if (!loaded) throw new Error('the trainer was not initialised with a base model');
  return loaded;
}

function setClassifier(next: typeof classifier): void {
  // The classifier shares its layers with the run's base and head: releaseModels frees them all once.
  if (classifier && classifier.model !== next?.model) {
    releaseModels(classifier.model);
    liveGraph = undefined;
  }
  classifier = next;
}

function foldedForLive(model: tfl.LayersModel): FoldedGraph | null {
  if (liveGraph === undefined) {
    try {
      liveGraph = foldModel(model);
    } catch (error) {
      if (!(error instanceof FoldError)) throw error;
      liveGraph = null;
    }
  }
  return liveGraph;
}

/**
 * The classifier's probability of each of its classes (in class order) for one image's pixels; `graph`: through
 * its folded op list instead of the layers model.
 */
function classProbabilities(pixels: RgbaPixels, record: ModelRecord, graph: FoldedGraph | null = null): Float32Array {
  const { model, inputSize } = classifier!;
  return tf.tidy(() => {
    const input = normalise(tf.expandDims(resizeToSquare(pixels, inputSize)), record.preprocessing) as tf.Tensor4D;
    return (graph ? runFolded(graph, input) : (model.predict(input) as tf.Tensor)).dataSync() as Float32Array;
  });
}

const api = {
  /** Starts the backend (WASM gets the backprop kernels it lacks) and keeps the base model's artifacts. */
  init(options: { backend: BackendChoice; threads: number; artifacts: ModelArtifactsData; record: ModelRecord }): Promise<BackendReport> {
    loaded ??= (async () => {
      registerWasmBackpropKernels();
      const report = await selectBackend(options.backend, options.threads);
      return { artifacts: toArtifacts(options.artifacts), artifactsData: options.artifacts, record: options.record, report };
    })();
    return loaded.then((l) => l.report);
  },

  /** The base's layer names in order, up to its bottleneck: what fine-tune-from may name or count in. */
  async layerNames(): Promise<string[]> {
    const { artifacts, record } = await ready();
    const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize: record.inputSize });
    try {
      return base.layers.map((layer) => layer.name);
    } finally {
      releaseModels(base);
    }
  },

  /** Layers and parameter counts before and after unfreezing, and the cut fine-tuning will start from. */
  async describe(inputSize: number, fineTuneAt: number | string, classCount: number, settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits'>): Promise<ModelSummary> {
    const { artifacts, record } = await ready();
    const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize });
    const featureSize = base.outputs[0].shape[3] as number;
    const head = buildHead(featureSize, Math.max(2, classCount), settings);
    try {
      return summariseBase(base, fineTuneAt, head.countParams());
    } finally {
      releaseModels(base, head);
    }
  },

  async train(request: TrainRequest, onEvent: (event: TrainEvent) => void): Promise<TrainOutcome> {
    // Before any await: a stop() posted right after this call must find this run's controller.
    const stop = (stopper = new AbortController());
    const { artifacts, artifactsData, record, report } = await ready();
    const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize: request.inputSize });
    const checkpoint = request.resume ? await loadCheckpoint(request.runId) : undefined;
    const settings = checkpoint?.settings ?? request.settings;
    const split = checkpoint?.split ?? request.split;
    const labelOf = (id: string) => request.labels[id];
    const { augmentation } = request;
    const samples = splitSamples(split, settings.augmentViews);
    const evalSplit = split.test.length > 0 ? 'test' : 'validation';
    const data: TrainingData = {
      head: {
        train: await loadInMemory(request.pooledKey, samples.train, labelOf, augmentation),
        validation: await loadInMemory(request.pooledKey, samples.validation, labelOf, augmentation),
      },
    };
    if (settings.fineTuneEpochs > 0) {
      if (!request.cutKey) throw new Error('fine-tuning needs the cut activations: extract them first');
      data.cut = {
        train: streamFromCache(request.cutKey, samples.train, labelOf, augmentation),
        validation: streamFromCache(request.cutKey, samples.validation, labelOf, augmentation),
      };
    }
    const fineTunes = checkpoint?.stage === 'fine-tune' ? checkpoint.epoch < settings.headEpochs + settings.fineTuneEpochs : settings.fineTuneEpochs > 0;
    helperPool?.close();
    helperPool =
      fineTunes && request.fineTune.workers > 1
        ? new HelperPool(
            request.fineTune.workers - 1,
            {
              // The backend the trainer ended up on (after any fallback), so every part computes alike.
              backend: report.backend,
              threads: request.fineTune.threads,
              artifacts: artifactsData,
              record,
              inputSize: request.inputSize,
              settings,
              classes: request.classes,
              split,
              labels: request.labels,
              cutKey: request.cutKey!,
              augmentation,
            },
            (message) => onEvent({ kind: 'notice', message }),
          )
        : null;
    const callbacks = {
      signal: stop.signal,
      onHelperLost: (message: string) => onEvent({ kind: 'notice', message }),
      onBatch: (progress: BatchProgress) => onEvent({ kind: 'batch', progress }),
      onEpoch: (record: EpochRecord, history: History) => onEvent({ kind: 'epoch', record, history }),
      onCheckpoint: async (state: TrainingState) => {
        await saveCheckpoint({ ...state, runId: request.runId, datasetId: request.datasetId, modelKey: request.pooledKey, savedAt: Date.now() });
        onEvent({ kind: 'checkpoint', epoch: state.epoch });
      },
    };
    const job = { base, classes: request.classes, split, settings, data, helpers: helperPool?.helpers };
    let result: TrainResult;
    try {
      result = checkpoint ? await resumeTraining(job, checkpoint, callbacks) : await train(job, callbacks);
    } catch (error) {
      releaseModels(base);
      // Paused (or cancelled): not an error; the last checkpoint is where a resume starts.
      if (stop.signal.aborted) return { finished: false };
      throw error;
    } finally {
      helperPool?.close();
      helperPool = null;
    }

    const evalRefs = samples[evalSplit];
    const evaluation = result.cutModel
      ? await evaluate(result.cutModel, streamFromCache(request.cutKey!, evalRefs, labelOf, augmentation), request.classes, evalSplit)
      : await evaluate(result.head, await loadInMemory(request.pooledKey, evalRefs, labelOf, augmentation), request.classes, evalSplit);

    const model = buildClassifier(base, result.head);
    const exported = await exportLayersModel(
      model,
      { classes: request.classes, inputSize: request.inputSize, preprocessing: record.preprocessing },
      'float32',
    );
    setClassifier({ model, classes: request.classes, inputSize: request.inputSize, runId: request.runId, split });
    let unsaved: string | null = null;
    try {
      await saveClassifier({
        runId: request.runId,
        name: `${request.datasetId} · ${record.name}`,
        classes: request.classes,
        savedAt: Date.now(),
        history: result.history,
        evaluation,
        artifacts: {
          modelTopology: exported.artifacts.modelTopology,
          weightSpecs: exported.artifacts.weightSpecs ?? [],
          weightData: exported.weightsBin,
          format: 'layers-model',
          generatedBy: exported.artifacts.generatedBy,
        },
      });
    } catch (error) {
      // The trained classifier stays usable in this tab; only keeping it for a later visit failed.
      if (!(error instanceof StorageFullError)) throw error;
      unsaved = `${error.message}. It classifies and exports in this tab: export it to keep it.`;
    }
    return { finished: true, history: result.history, evaluation, unsaved };
  },

  /** Ends fine-tuning helper `index`'s worker as a crash would (tests: the run goes on with a fresh one). */
  terminateFineTuneHelper(index: number): void {
    if (!helperPool) throw new Error('no fine-tuning helpers are running');
    helperPool.terminate(index);
  },

  /** Stops training after the current batch: train() then resolves { finished: false }; the last checkpoint is kept. */
  stop(): void {
    stopper?.abort(new DOMException('stopped', 'AbortError'));
  },

  /**
   * Loads a classifier saved by an earlier visit, for classify and export without retraining, with the run's
   * history and evaluation when they were saved with it.
   */
  async useSavedClassifier(runId: string): Promise<SavedClassifier | null> {
    await ready();
    const saved = await loadClassifier(runId);
    if (!saved) return null;
    const { artifacts } = saved;
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: artifacts.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: artifacts.weightData,
      }),
    );
    const inputSize = model.inputs[0].shape[1] as number;
    setClassifier({ model, classes: saved.classes, inputSize, runId, split: (await loadCheckpoint(runId))?.split ?? null });
    return { classes: saved.classes, inputSize, history: saved.history ?? null, evaluation: saved.evaluation ?? null };
  },

  /** Drops the classifier in use (its saved copy is the cache's business). */
  forgetClassifier(): void {
    setClassifier(null);
  },

  /** Top classes of any image (decoded here, never on the page). */
  async classify(bytes: Blob, top = 3): Promise<Classification[]> {
    if (!classifier) throw new Error('train a classifier first');
    const { record } = await ready();
    const probabilities = classProbabilities(await decodeImage(bytes, classifier.inputSize), record);
    return topClasses(classifier.classes, probabilities, top);
  },

  /**
   * Every class's probability for one camera frame (Live), preprocessed as a photo is; the frame (transferred
   * here) is closed whatever happens.
   */
  async classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
    const started = performance.now();
    const pixels = bitmapPixels(frame);
    if (!classifier) throw new Error('train a classifier first');
    const { record } = await ready();
    const probabilities = classProbabilities(pixels, record, foldedForLive(classifier.model));
    return { classes: classifier.classes, probabilities, ms: performance.now() - started };
  },

  /** The trained classifier as the file pair model.json + weights.bin, float32 or quantized. */
  async exportModel(quantization: WeightQuantization): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
    if (!classifier) throw new Error('train a classifier first');
    const { record } = await ready();
    const { modelJson, weightsBin } = await exportLayersModel(
      classifier.model,
      { classes: classifier.classes, inputSize: classifier.inputSize, preprocessing: record.preprocessing },
      quantization,
    );
    return Comlink.transfer({ modelJson, weightsBin }, [weightsBin]);
  },

  /**
   * Which images a TFLite export needs: training images to calibrate int8 on and the held-out images (test, else
   * validation) every file is checked on. Null when the classifier's split is unknown.
   */
  tfliteImageIds(): { calibration: string[]; check: string[] } | null {
    if (!classifier) throw new Error('train a classifier first');
    const { split } = classifier;
    if (!split) return null;
    const step = Math.max(1, split.train.length / CALIBRATION_IMAGES);
    const calibration = Array.from({ length: Math.min(CALIBRATION_IMAGES, split.train.length) }, (_, i) => split.train[Math.floor(i * step)]);
    return { calibration, check: split.test.length > 0 ? split.test : split.validation };
  },

  /**
   * The trained classifier as a .tflite file of `kind` (int8: calibrated on `calibration`, decoded here), with the
   * `check` images prepared as the file takes them (float32 preprocessed, or uint8 pixels) and the TF.js model's
   * top-1 on each.
   */
  async exportTflite(kind: TfliteKind, calibration: Blob[], check: { images: Blob[]; labels: number[] }): Promise<PreparedTflite> {
    // Before any await: a stopTflite() posted right after this call must find this export's controller.
    const { signal } = (tfliteStopper = new AbortController());
    if (!classifier) throw new Error('train a classifier first');
    const { record } = await ready();
    const { model, classes, inputSize } = classifier;
    const pixelsOf = async (bytes: Blob) => resizeToSquare(await decodeImage(bytes, inputSize), inputSize);
    async function* calibrationBatches() {
      for (let i = 0; i < calibration.length; i += 16) {
        signal.throwIfAborted();
        const pixels = await Promise.all(calibration.slice(i, i + 16).map(pixelsOf));
        const batch = tf.tidy(() => normalise(tf.stack(pixels), record.preprocessing) as tf.Tensor4D);
        tf.dispose(pixels);
        yield batch;
        batch.dispose();
      }
    }
    const exported = await exportTflite(model, {
      kind,
      labels: classes,
      preprocessing: record.preprocessing,
      calibration: kind === 'int8' ? calibrationBatches() : undefined,
    });
    signal.throwIfAborted();
    const uint8 = exported.signature.input.type === 'uint8';
    const per = inputSize * inputSize * 3;
    const inputs = uint8 ? new Uint8Array(per * check.images.length) : new Float32Array(per * check.images.length);
    const tfjsTop1: number[] = [];
    let tfjsMs = 0;
    for (let i = 0; i < check.images.length; i++) {
      signal.throwIfAborted();
      const pixels = await pixelsOf(check.images[i]);
      const [values, top1, ms] = tf.tidy(() => {
        const input = normalise(tf.expandDims(pixels), record.preprocessing);
        const start = performance.now();
        const top = (tf.argMax(model.predict(input) as tf.Tensor, 1).dataSync() as Int32Array)[0];
        const took = performance.now() - start;
        // Android hands the model bytes: the int8 file is checked on the rounded pixels, as the classifier rounds them.
        return [uint8 ? roundedPixels(pixels.dataSync()) : input.dataSync(), top, took] as const;
      });
      pixels.dispose();
      inputs.set(values, i * per);
      tfjsTop1.push(top1);
      tfjsMs += ms;
    }
    const result: PreparedTflite = {
      kind,
      file: exported.file,
      signature: exported.signature,
      labels: exported.labels,
      check: { inputs: inputs.buffer as ArrayBuffer, count: check.images.length, labels: check.labels, tfjsTop1, tfjsMsPerImage: tfjsMs / Math.max(1, check.images.length) },
    };
    return Comlink.transfer(result, [exported.file.buffer as ArrayBuffer, result.check.inputs]);
  },

  /** Stops the TFLite export in progress at its next image: it rejects with the reason, and nothing of it is kept. */
  stopTflite(): void {
    tfliteStopper?.abort(new Error('the TFLite build was stopped'));
  },

  /** The image and nine augmented views as the training will see them, as bitmaps for the page. */
  async previewAugmentation(bytes: Blob, imageId: string, size: number, augmentation: Augmentation, views = 9): Promise<ImageBitmap[]> {
    // tf ops before the backend has started throw "Backend 'wasm' has not yet been initialized".
    await ready();
    const pixels = await decodeImage(bytes, size);
    const image = resizeToSquare(pixels, size);
    const batch = tf.tidy(() => tf.tile(tf.expandDims(image), [views + 1, 1, 1, 1]) as tf.Tensor4D);
    const params = Array.from({ length: views + 1 }, (_, v) => augmentParams(imageId, v, augmentation));
    const viewed = tf.tidy(() => {
      const augmented = augment(tf.slice(batch, [1, 0, 0, 0], [views, size, size, 3]), params.slice(1), augmentation);
      return tf.concat([tf.slice(batch, [0, 0, 0, 0], [1, size, size, 3]), augmented]);
    });
    const rgb = (await viewed.data()) as Float32Array;
    tf.dispose([image, batch, viewed]);
    const bitmaps: ImageBitmap[] = [];
    for (let v = 0; v <= views; v++) {
      const rgba = new Uint8ClampedArray(size * size * 4);
      for (let p = 0; p < size * size; p++) {
        const o = (v * size * size + p) * 3;
        rgba.set([rgb[o], rgb[o + 1], rgb[o + 2], 255], p * 4);
      }
      const canvas = new OffscreenCanvas(size, size);
      canvas.getContext('2d')!.putImageData(new ImageData(rgba, size, size), 0, 0);
      bitmaps.push(canvas.transferToImageBitmap());
    }
    return Comlink.transfer(bitmaps, bitmaps);
  },
};

export type TrainWorkerApi = typeof api;
Comlink.expose(api);
