/**
 * The trainer's Web Worker: holds the only live copy of the base and the trained classifier, reads features from
 * the cache, trains (stage 1 and 2), saves a checkpoint after every epoch and the finished classifier in
 * IndexedDB, and answers classify / export / augmentation-preview requests. The page trades plain data with it.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendChoice, BackendReport, ModelArtifactsData, WorkerMemory } from '../../../shared/farm';
import type { ModelRecord } from '../../../shared/records';
import type { EpochRecord, Evaluation, History, SplitAssignment, TrainingState, TrainSettings } from '../../../shared/training';
import { loadCheckpoint, saveCheckpoint } from '../../cache/checkpoint-store';
import { loadClassifier, saveClassifier } from '../../cache/classifier-store';
import { augment, augmentParams } from '../../farm/augment';
import { selectBackend } from '../../farm/backend';
import { decodeImage } from '../../farm/decode';
import { normalise, resizeToSquare } from '../../farm/preprocess';
import { loadBaseModel, summariseBase, type ModelSummary } from '../base-model';
import { evaluate } from '../evaluate';
import { buildClassifier, exportLayersModel, type WeightQuantization } from '../export';
import { buildHead } from '../head';
import { releaseModels } from '../release';
import { splitSamples } from '../sources';
import { resumeTraining, train, type BatchProgress, type TrainingData } from '../train';
import { registerWasmBackpropKernels } from '../wasm-backprop-kernels';
import { loadInMemory, streamFromCache } from './cached-source';

export interface TrainRequest {
  runId: string;
  datasetId: string;
  classes: string[];
  /** Class index of every image in the split. */
  labels: Record<string, number>;
  split: SplitAssignment;
  settings: TrainSettings;
  inputSize: number;
  /** Cache model keys of the pooled features and (when fine-tuning) of the cut activations. */
  pooledKey: string;
  cutKey: string | null;
  /** Continue from the run's last checkpoint instead of starting over. */
  resume: boolean;
}

export type TrainEvent =
  | { kind: 'batch'; progress: BatchProgress }
  | { kind: 'epoch'; record: EpochRecord; history: History }
  | { kind: 'checkpoint'; epoch: number };

export interface TrainOutcome {
  history: History;
  evaluation: Evaluation;
  /** False when stopped before the last epoch: the last checkpoint is where a resume starts. */
  finished: boolean;
}

export interface Classification {
  classIndex: number;
  className: string;
  probability: number;
}

interface Loaded {
  artifacts: tf.io.ModelArtifacts;
  record: ModelRecord;
  report: BackendReport;
}

let loaded: Promise<Loaded> | null = null;
let classifier: { model: tfl.LayersModel; classes: string[]; inputSize: number; runId: string } | null = null;
let stopper: AbortController | null = null;

function toArtifacts({ modelJson, weightData }: ModelArtifactsData): tf.io.ModelArtifacts {
  return {
    modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData,
  };
}

/** The backend and base, once init() has started them: every tf op of this worker waits for it. */
async function ready(): Promise<Loaded> {
  if (!loaded) throw new Error('the trainer was not initialised with a base model');
  return loaded;
}

function setClassifier(next: typeof classifier): void {
  // The classifier shares its layers with the run's base and head: releaseModels frees them all once.
  if (classifier && classifier.model !== next?.model) releaseModels(classifier.model);
  classifier = next;
}

/** Pixels of one image as the model sees them: [1, size, size, 3], normalised. */
async function imageInput(bytes: Blob, size: number, record: ModelRecord): Promise<tf.Tensor4D> {
  const pixels = await decodeImage(bytes, size);
  return tf.tidy(() => normalise(tf.expandDims(resizeToSquare(pixels, size)), record.preprocessing) as tf.Tensor4D);
}

const api = {
  /** Starts the backend (WASM gets the backprop kernels it lacks) and keeps the base model's artifacts. */
  init(options: { backend: BackendChoice; threads: number; artifacts: ModelArtifactsData; record: ModelRecord }): Promise<BackendReport> {
    loaded ??= (async () => {
      registerWasmBackpropKernels();
      const report = await selectBackend(options.backend, options.threads);
      return { artifacts: toArtifacts(options.artifacts), record: options.record, report };
    })();
    return loaded.then((l) => l.report);
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
    const { artifacts, record } = await ready();
    stopper = new AbortController();
    const base = await loadBaseModel(artifacts, { bottleneck: record.bottleneck, inputSize: request.inputSize });
    const checkpoint = request.resume ? await loadCheckpoint(request.runId) : undefined;
    const settings = checkpoint?.settings ?? request.settings;
    const split = checkpoint?.split ?? request.split;
    const labelOf = (id: string) => request.labels[id];
    const samples = splitSamples(split, settings.augmentViews);
    const evalSplit = split.test.length > 0 ? 'test' : 'validation';
    const data: TrainingData = {
      head: {
        train: await loadInMemory(request.pooledKey, samples.train, labelOf),
        validation: await loadInMemory(request.pooledKey, samples.validation, labelOf),
      },
    };
    if (settings.fineTuneEpochs > 0) {
      if (!request.cutKey) throw new Error('fine-tuning needs the cut activations: extract them first');
      data.cut = {
        train: streamFromCache(request.cutKey, samples.train, labelOf),
        validation: streamFromCache(request.cutKey, samples.validation, labelOf),
      };
    }
    const callbacks = {
      signal: stopper.signal,
      onBatch: (progress: BatchProgress) => onEvent({ kind: 'batch', progress }),
      onEpoch: (record: EpochRecord, history: History) => onEvent({ kind: 'epoch', record, history }),
      onCheckpoint: async (state: TrainingState) => {
        await saveCheckpoint({ ...state, runId: request.runId, datasetId: request.datasetId, modelKey: request.pooledKey, savedAt: Date.now() });
        onEvent({ kind: 'checkpoint', epoch: state.epoch });
      },
    };
    const job = { base, classes: request.classes, split, settings, data };
    const result = checkpoint ? await resumeTraining(job, checkpoint, callbacks) : await train(job, callbacks);
    const totalEpochs = settings.headEpochs + settings.fineTuneEpochs;
    const finished = result.history.epochs.length >= totalEpochs;

    const evalRefs = samples[evalSplit];
    const evaluation = result.cutModel
      ? await evaluate(result.cutModel, streamFromCache(request.cutKey!, evalRefs, labelOf), request.classes, evalSplit)
      : await evaluate(result.head, await loadInMemory(request.pooledKey, evalRefs, labelOf), request.classes, evalSplit);

    const model = buildClassifier(base, result.head);
    const exported = await exportLayersModel(
      model,
      { classes: request.classes, inputSize: request.inputSize, preprocessing: record.preprocessing },
      'float32',
    );
    await saveClassifier({
      runId: request.runId,
      name: `${request.datasetId} · ${record.name}`,
      classes: request.classes,
      savedAt: Date.now(),
      artifacts: {
        modelTopology: exported.artifacts.modelTopology,
        weightSpecs: exported.artifacts.weightSpecs ?? [],
        weightData: exported.weightsBin,
        format: 'layers-model',
        generatedBy: exported.artifacts.generatedBy,
      },
    });
    setClassifier({ model, classes: request.classes, inputSize: request.inputSize, runId: request.runId });
    return { history: result.history, evaluation, finished };
  },

  /** Stops training between batches; the last checkpoint is kept. */
  stop(): void {
    stopper?.abort(new DOMException('stopped', 'AbortError'));
  },

  /** Loads a classifier saved by an earlier visit, for classify and export without retraining. */
  async useSavedClassifier(runId: string): Promise<{ classes: string[]; inputSize: number } | null> {
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
    setClassifier({ model, classes: saved.classes, inputSize, runId });
    return { classes: saved.classes, inputSize };
  },

  /** Top classes of any image (decoded here, never on the page). */
  async classify(bytes: Blob, top = 3): Promise<Classification[]> {
    if (!classifier) throw new Error('train a classifier first');
    const { record } = await ready();
    const input = await imageInput(bytes, classifier.inputSize, record);
    const probabilities = tf.tidy(() => (classifier!.model.predict(input) as tf.Tensor).dataSync() as Float32Array);
    input.dispose();
    return Array.from(probabilities, (probability, classIndex) => ({ classIndex, className: classifier!.classes[classIndex], probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, top);
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

  /** The image and nine augmented views as the training will see them, as bitmaps for the page. */
  async previewAugmentation(bytes: Blob, imageId: string, size: number, views = 9): Promise<ImageBitmap[]> {
    // tf ops before the backend has started throw "Backend 'wasm' has not yet been initialized".
    await ready();
    const pixels = await decodeImage(bytes, size);
    const image = resizeToSquare(pixels, size);
    const batch = tf.tidy(() => tf.tile(tf.expandDims(image), [views + 1, 1, 1, 1]) as tf.Tensor4D);
    const params = Array.from({ length: views + 1 }, (_, v) => augmentParams(imageId, v));
    const viewed = tf.tidy(() => {
      const augmented = augment(tf.slice(batch, [1, 0, 0, 0], [views, size, size, 3]), params.slice(1));
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

  memory(): WorkerMemory {
    const memory = tf.memory();
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return { numTensors: memory.numTensors, numBytes: memory.numBytes, jsHeapBytes: heap?.usedJSHeapSize ?? null };
  },
};

export type TrainWorkerApi = typeof api;
Comlink.expose(api);
