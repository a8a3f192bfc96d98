/**
 * Stage-2 epoch times in Node on the wasm backend (one thread: tfjs has no wasm threads in Node), on the same
 * images both ways: with the frozen layers recomputed from the images at every step (no cache), and from cut
 * activations computed once (Graft's cut-point cache). The models, the BatchNorm handling, the loss and the
 * optimizer are the trainer's (client/trainer/train-stage.ts); an epoch is its training steps plus one validation pass,
 * timed after one warm-up step (the first step is several times slower while the wasm heap grows). And one
 * worker's stage-2 step profiled per kernel (client/trainer/step-profile.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelRecord } from '../../shared/records';
import type { TrainSettings } from '../../shared/training';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { loadBaseModel, setBaseTrainable, splitAtFineTune } from '../../client/engine/base-model';
import { keepBatchNormInInferenceMode } from '../../client/engine/batch-norm-inference';
import { buildCutModel } from '../../client/trainer/cut-model';
import { EVALUATION_BATCH_SIZE } from '../../client/trainer/evaluate';
import { buildClassifier } from '../../client/trainer/export';
import { buildHead } from '../../client/trainer/head';
import { releaseModels } from '../../client/engine/release';
import { profileStageTwoStep, type StepProfile } from '../../client/trainer/step-profile';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { readModelArtifacts } from './model-artifacts';
import { useBackend } from './tf-node';
import { decodeFile } from './decode-file';

/** Steps before a profile (the first grow the wasm heap) and steps profiled. */
export const PROFILE_WARM_UP = 2;
export const PROFILE_STEPS = 3;

export interface LabelledFile {
  path: string;
  label: number;
}

export interface FineTuneTimingOptions {
  modelDir: string;
  record: Pick<ModelRecord, 'bottleneck' | 'preprocessing'>;
  inputSize: number;
  classCount: number;
  train: LabelledFile[];
  validation: LabelledFile[];
  settings: TrainSettings;
  log: (line: string) => void;
}

export interface EpochTiming {
  /** Training steps over the training images plus a validation pass. */
  epochSeconds: number;
  stepSeconds: number;
  steps: number;
}

export interface FineTuneTiming {
  full: EpochTiming;
  cached: EpochTiming;
  fineTuneAtName: string;
  /** One worker's step (a batch of settings.batchSize) profiled per kernel. */
  profile: StepProfile;
}

/** Normalised model input [n, size, size, 3] of image files, decoded and resized as the farm does. */
async function pixelsOf(files: LabelledFile[], size: number, preprocessing: ModelRecord['preprocessing']): Promise<tf.Tensor4D> {
  const images: tf.Tensor3D[] = [];
  try {
    for (const file of files) images.push(resizeToSquare(await decodeFile(file.path), size));
    return tf.tidy(() => normalise(tf.stack(images), preprocessing) as tf.Tensor4D);
  } finally {
    tf.dispose(images);
  }
}

/** The frozen part's outputs for all images, one tensor per cut tensor, computed in batches. */
function cutActivations(frozen: tfl.LayersModel, images: tf.Tensor4D): tf.Tensor[] {
  const parts: tf.Tensor[][] = frozen.outputs.map(() => []);
  for (let start = 0; start < images.shape[0]; start += EVALUATION_BATCH_SIZE) {
    const size = Math.min(EVALUATION_BATCH_SIZE, images.shape[0] - start);
    const out = tf.tidy(() => frozen.predict(tf.slice(images, start, size)) as tf.Tensor | tf.Tensor[]);
    (Array.isArray(out) ? out : [out]).forEach((t, k) => parts[k].push(t));
  }
  return parts.map((list) => {
    const joined = tf.concat(list);
    tf.dispose(list);
    return joined;
  });
}

/** One optimizer step, as the trainer's trainStep: Keras's crossentropy on clipped softmax outputs. */
async function step(model: tfl.LayersModel, optimizer: tf.Optimizer, inputs: tf.Tensor[], labels: Int32Array, classCount: number): Promise<void> {
  const loss = tf.tidy(() => {
    const targets = tf.oneHot(tf.tensor1d(labels, 'int32'), classCount);
    return optimizer.minimize(
      () => {
        const probs = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: true }) as tf.Tensor2D;
        const clipped = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
        return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.log(clipped)), 1))) as tf.Scalar;
      },
      true,
      model.trainableWeights.map((v) => v.read() as tf.Variable),
    )!;
  });
  await loss.data();
  loss.dispose();
}

async function timeEpoch(
  model: tfl.LayersModel,
  train: tf.Tensor[],
  labels: Int32Array,
  validation: tf.Tensor[],
  settings: TrainSettings,
  classCount: number,
): Promise<EpochTiming> {
  const optimizer = settings.optimizer === 'adam' ? tf.train.adam(settings.learningRate / settings.fineTuneLrDivisor) : tf.train.rmsprop(settings.learningRate / settings.fineTuneLrDivisor);
  const batchSize = settings.batchSize;
  const count = labels.length;
  const batch = async (start: number) => {
    const size = Math.min(batchSize, count - start);
    const inputs = train.map((t) => tf.slice(t, start, size));
    await step(model, optimizer, inputs, labels.subarray(start, start + size), classCount).finally(() => tf.dispose(inputs));
  };
  try {
    await batch(0);
    const started = performance.now();
    let steps = 0;
    for (let start = 0; start < count; start += batchSize, steps++) await batch(start);
    const stepped = performance.now();
    const n = validation[0].shape[0];
    for (let start = 0; start < n; start += EVALUATION_BATCH_SIZE) {
      const size = Math.min(EVALUATION_BATCH_SIZE, n - start);
      const probs = tf.tidy(() => {
        const inputs = validation.map((t) => tf.slice(t, start, size));
        return model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      });
      await probs.data();
      probs.dispose();
    }
    return { epochSeconds: (performance.now() - started) / 1000, stepSeconds: (stepped - started) / 1000 / steps, steps };
  } finally {
    optimizer.dispose();
  }
}

export async function timeFineTuneEpochs(options: FineTuneTimingOptions): Promise<FineTuneTiming> {
  const { settings, classCount, log } = options;
  await useBackend('wasm');
  registerWasmBackpropKernels();
  const { artifacts } = await readModelArtifacts(options.modelDir);
  const base = await loadBaseModel(artifacts, { bottleneck: options.record.bottleneck, inputSize: options.inputSize });
  // As the trainer sets up stage 2: BN layers in inference mode, layers from fine_tune_at on trainable.
  keepBatchNormInInferenceMode(base);
  const split = splitAtFineTune(base, settings.fineTuneAt);
  setBaseTrainable(base, split.fineTuneAt);
  const head = buildHead(base.outputs[0].shape[3] as number, classCount, settings);
  const cutModel = buildCutModel(base, head, settings.fineTuneAt);
  const fullModel = buildClassifier(base, head);

  log(`  node: decoding ${options.train.length + options.validation.length} images`);
  const trainImages = await pixelsOf(options.train, options.inputSize, options.record.preprocessing);
  const validationImages = await pixelsOf(options.validation, options.inputSize, options.record.preprocessing);
  const labels = Int32Array.from(options.train, (f) => f.label);
  try {
    log(`  node: cut activations at ${split.fineTuneAtName} (${split.cut.map((c) => `[${c.shape.join(', ')}]`).join(' + ')})`);
    const trainCut = cutActivations(split.frozen, trainImages);
    const validationCut = cutActivations(split.frozen, validationImages);
    let cached: EpochTiming;
    try {
      log('  node: fine-tune epoch from the cut activations');
      cached = await timeEpoch(cutModel, trainCut, labels, validationCut, settings, classCount);
    } finally {
      tf.dispose([...trainCut, ...validationCut]);
    }
    log('  node: fine-tune epoch from the images');
    const full = await timeEpoch(fullModel, [trainImages], labels, [validationImages], settings, classCount);
    log('  node: one stage-2 step profiled per kernel');
    const profile = await profileStageTwoStep(
      await loadBaseModel(artifacts, { bottleneck: options.record.bottleneck, inputSize: options.inputSize }),
      { classCount, settings, batch: settings.batchSize, warmUp: PROFILE_WARM_UP, steps: PROFILE_STEPS },
    );
    return { full, cached, fineTuneAtName: split.fineTuneAtName, profile };
  } finally {
    tf.dispose([trainImages, validationImages]);
    releaseModels(fullModel, cutModel, split.frozen, head);
  }
}
