/**
 * Plain-data protocol between the page and the trainer's worker: what a training run is asked for, the events it
 * sends while it runs, how it ends, and what the page is told about the base, a saved classifier, a classification
 * and a .tflite export. Structured-cloneable only: no tensors, no classes. The worker's comlink API itself is
 * `TrainWorkerApi` in client/trainer/worker/train.worker.ts, which the page imports as a type only.
 */
import type { Augmentation } from './augmentation';
import type { BackendChoice, ModelArtifactsData } from './farm';
import type { ModelRecord } from './records';
import type { EpochRecord, Evaluation, History, SplitAssignment, Stage, TrainSettings } from './training';

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
  /** How the cached augmented views were made (part of their keys). */
  augmentation: Augmentation;
  /** Continue from the run's last checkpoint instead of starting over. */
  resume: boolean;
  /**
   * Stage 2 runs on `workers` workers: the trainer and workers - 1 helpers it starts, each computing part of every
   * batch, with `threads` WASM threads each (1 worker: the trainer alone).
   */
  fineTune: { workers: number; threads: number };
}

/** What a fine-tuning helper worker is started with: the trainer's backend and base, and the run's stage-2 data. */
export interface FineTuneHelperInit {
  backend: BackendChoice;
  threads: number;
  artifacts: ModelArtifactsData;
  record: ModelRecord;
  inputSize: number;
  settings: TrainSettings;
  classes: string[];
  split: SplitAssignment;
  labels: Record<string, number>;
  cutKey: string;
  augmentation: Augmentation;
}

export interface BatchProgress {
  stage: Stage;
  epoch: number;
  /** 1-based index of the batch just trained. */
  batch: number;
  batches: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
}

export type TrainEvent =
  | { kind: 'batch'; progress: BatchProgress }
  | { kind: 'epoch'; record: EpochRecord; history: History }
  | { kind: 'checkpoint'; epoch: number }
  /** Something the visitor should know that does not stop the run (a fine-tuning helper was replaced or lost). */
  | { kind: 'notice'; message: string };

/** A run that went to its last epoch, or one stopped before it (the last checkpoint is where a resume starts). */
export type TrainOutcome =
  | {
      finished: true;
      history: History;
      evaluation: Evaluation;
      /** Why the classifier could not be kept on this browser (storage full), or null when it was saved. */
      unsaved: string | null;
    }
  | { finished: false };

export interface SavedClassifier {
  classes: string[];
  inputSize: number;
  /** The run's curves and results (null for a classifier saved without them). */
  history: History | null;
  evaluation: Evaluation | null;
}

export interface Classification {
  classIndex: number;
  className: string;
  probability: number;
}

/** One camera frame's answer: the classifier's classes and, in the same order, their probabilities. */
export interface FrameClassification {
  classes: string[];
  probabilities: Float32Array;
  /** The worker's own milliseconds for the frame: from reading its pixels to the probabilities. */
  ms: number;
}

/** A tensor that crosses the fine-tune cut: produced before fine_tune_at, consumed at or after it. */
export interface CutTensor {
  /** Layer that produces it (its output index is always 0 for the bases Graft supports). */
  layer: string;
  /** Per-image shape, e.g. [14, 14, 192]. */
  shape: number[];
}

export interface LayerSummary {
  index: number;
  name: string;
  className: string;
  /** Per-image output shape. */
  outputShape: number[];
  params: number;
}

export interface ParamCounts {
  trainable: number;
  frozen: number;
}

/** What the page shows about the base and the two stages. */
export interface ModelSummary {
  name: string;
  inputSize: number;
  bottleneck: string;
  layers: LayerSummary[];
  fineTuneAt: number;
  fineTuneAtName: string;
  cut: CutTensor[];
  /** Stage 1: only the head trains. */
  beforeUnfreezing: ParamCounts;
  /** Stage 2: layers from fine_tune_at on train too (BN moving statistics stay frozen, as in Keras). */
  afterUnfreezing: ParamCounts;
}

/** How the TF.js export stores the classifier's weights: as they are, or quantized (TF.js weight quantization). */
export type WeightQuantization = 'float32' | 'float16' | 'uint8';

export type TfliteKind = 'float32' | 'float16' | 'int8';

/** What the file's input and output are: the README, the snippets and the check all read this. */
export interface TfliteSignature {
  input: { shape: number[]; type: 'float32' | 'uint8'; quantization: { scale: number; zeroPoint: number } | null };
  output: { shape: number[]; type: 'float32' };
}

/** A .tflite file ready for its LiteRT check: the check images as the file takes them, and the TF.js model's answers. */
export interface PreparedTflite {
  kind: TfliteKind;
  file: Uint8Array;
  signature: TfliteSignature;
  labels: string[];
  check: { inputs: ArrayBuffer; count: number; labels: number[]; tfjsTop1: number[]; tfjsMsPerImage: number };
}
