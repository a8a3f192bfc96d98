/**
 * BatchNormalization in inference mode during fine-tuning (Keras: base(x, training=False)), on the real MobileNetV2
 * and the wasm backend: moving statistics never move, outputs do not depend on the training flag, gamma and beta
 * still learn, and the same checks on the stock layers show what the patch prevents.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { keepBatchNormInInferenceMode } from '../../client/engine/batch-norm-inference';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { useBackend } from '../../tools/measure/tf-node';
import { recipeFineTuneModel } from '../support/tf-node';

const INPUT_SIZE = 64;
const BATCH = 4;
const CLASSES = 3;
const FINE_TUNE_AT = 'block_15_expand';
/** MobileNetV2 has one BN after every convolution. */
const BATCH_NORM_LAYERS = 52;

interface FineTuneSetup {
  model: tfl.LayersModel;
  base: tfl.LayersModel;
  batchNorms: tfl.layers.Layer[];
}

/** The recipe's model: base (unfrozen from FINE_TUNE_AT) nested in base + GAP + Dense, as the trainer builds it. */
async function fineTuneSetup(options: { patched: boolean }): Promise<FineTuneSetup> {
  const { model, base } = await recipeFineTuneModel({ inputSize: INPUT_SIZE, fineTuneAt: FINE_TUNE_AT, classes: CLASSES, seed: 3 });
  if (options.patched) expect(keepBatchNormInInferenceMode(model)).toBe(BATCH_NORM_LAYERS);
  model.compile({ optimizer: tf.train.adam(1e-2), loss: 'categoricalCrossentropy' });
  const batchNorms = base.layers.filter((layer) => layer.getClassName() === 'BatchNormalization');
  expect(batchNorms).toHaveLength(BATCH_NORM_LAYERS);
  return { model, base, batchNorms };
}

/** Deterministic images in [-1, 1] (MobileNet's input range) with 16x16 blocks, so batches have real statistics. */
function images(seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const blocks = tf.randomUniform([BATCH, INPUT_SIZE / 16, INPUT_SIZE / 16, 3], -1, 1, 'float32', seed);
    return tf.image.resizeNearestNeighbor(blocks as tf.Tensor4D, [INPUT_SIZE, INPUT_SIZE]);
  });
}

function labels(): tf.Tensor2D {
  return tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % CLASSES), 'int32'), CLASSES) as tf.Tensor2D;
}

type WeightKind = 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';

function weightOf(layer: tfl.layers.Layer, kind: WeightKind): tfl.LayerVariable {
  const weight = layer.weights.find((w) => w.originalName.endsWith(`/${kind}`));
  if (weight === undefined) throw new Error(`${layer.name} has no ${kind}`);
  return weight;
}

function snapshot(layers: tfl.layers.Layer[], kinds: WeightKind[]): Float32Array[] {
  return layers.flatMap((layer) =>
    kinds.map((kind) => weightOf(layer, kind).read().dataSync().slice() as Float32Array));
}

function changed(before: Float32Array[], after: Float32Array[]): boolean[] {
  return before.map((values, i) => values.some((value, j) => value !== after[i]![j]));
}

/** Three fine-tuning steps through fit(), the trainer's path (fit passes training=true to every layer). */
async function fitSteps(model: tfl.LayersModel): Promise<number[]> {
  const x = tf.concat([images(1), images(2), images(3)]);
  const y = tf.concat([labels(), labels(), labels()]);
  const history = await model.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  return history.history.loss as number[];
}

function relativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0]! / tf.norm(a).dataSync()[0]!);
}

beforeAll(async () => {
  await useBackend('wasm');
  registerWasmBackpropKernels();
});

describe('stock tfjs-layers BatchNormalization (what the patch prevents)', () => {
  test('fit() rewrites the moving mean and variance of every BN layer, frozen or not', async () => {
    const { model, batchNorms } = await fineTuneSetup({ patched: false });
    expect(batchNorms.filter((layer) => !layer.trainable).length).toBeGreaterThan(40);
    const before = snapshot(batchNorms, ['moving_mean', 'moving_variance']);
    await fitSteps(model);
    expect(changed(before, snapshot(batchNorms, ['moving_mean', 'moving_variance'])).every(Boolean)).toBe(true);
  });

  test('a training-mode pass uses batch statistics, so it differs from an inference pass', async () => {
    const { base } = await fineTuneSetup({ patched: false });
    const x = images(4);
    const inference = base.predict(x) as tf.Tensor;
    const training = base.apply(x, { training: true }) as tf.Tensor;
    expect(relativeDifference(inference, training)).toBeGreaterThan(0.1);
  });
});

describe('keepBatchNormInInferenceMode', () => {
  test('fit() leaves every moving statistic bit-for-bit unchanged, and trains unfrozen gamma/beta only', async () => {
    const { model, batchNorms } = await fineTuneSetup({ patched: true });
    const unfrozen = batchNorms.filter((layer) => layer.trainable);
    const frozen = batchNorms.filter((layer) => !layer.trainable);
    expect(unfrozen.map((layer) => layer.name)).toEqual(
      ['block_15_expand_BN', 'block_15_depthwise_BN', 'block_15_project_BN', 'block_16_expand_BN',
        'block_16_depthwise_BN', 'block_16_project_BN', 'Conv_1_bn']);
    const statistics = snapshot(batchNorms, ['moving_mean', 'moving_variance']);
    const unfrozenAffine = snapshot(unfrozen, ['gamma', 'beta']);
    const frozenAffine = snapshot(frozen, ['gamma', 'beta']);

    const losses = await fitSteps(model);

    expect(losses.every(Number.isFinite)).toBe(true);
    expect(changed(statistics, snapshot(batchNorms, ['moving_mean', 'moving_variance'])).some(Boolean)).toBe(false);
    expect(changed(unfrozenAffine, snapshot(unfrozen, ['gamma', 'beta'])).every(Boolean)).toBe(true);
    expect(changed(frozenAffine, snapshot(frozen, ['gamma', 'beta'])).some(Boolean)).toBe(false);
  });

  test('a custom tf.variableGrads loop (training=true) leaves the moving statistics unchanged too', async () => {
    const { model, batchNorms } = await fineTuneSetup({ patched: true });
    const statistics = snapshot(batchNorms, ['moving_mean', 'moving_variance']);
    const optimizer = tf.train.sgd(0.1);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const [x, y] = [images(5), labels()];
    for (let step = 0; step < 2; step++) {
      const loss = () =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      optimizer.minimize(loss, false, variables);
    }
    expect(changed(statistics, snapshot(batchNorms, ['moving_mean', 'moving_variance'])).some(Boolean)).toBe(false);
    tf.dispose([x, y]);
  });

  test('outputs are identical in training and inference mode, and equal the stock inference outputs', async () => {
    const stock = await fineTuneSetup({ patched: false });
    const { base } = await fineTuneSetup({ patched: true });
    const x = images(6);
    const inference = base.predict(x) as tf.Tensor;
    const training = base.apply(x, { training: true }) as tf.Tensor;
    expect(training.dataSync()).toEqual(inference.dataSync());
    expect(relativeDifference(stock.base.predict(x) as tf.Tensor, inference)).toBeLessThan(1e-5);
  });

  test('gradients equal those of the stock layers run in inference mode', async () => {
    const stock = await fineTuneSetup({ patched: false });
    const patched = await fineTuneSetup({ patched: true });
    const [x, y] = [images(7), labels()];
    const gradientsOf = (model: tfl.LayersModel, training: boolean): Float32Array[] => {
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training }) as tf.Tensor) as tf.Scalar, variables);
      const values = variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      return values;
    };
    const expected = gradientsOf(stock.model, false);
    const actual = gradientsOf(patched.model, true);
    expect(actual).toHaveLength(expected.length);
    expected.forEach((values, i) => {
      expect(relativeDifference(tf.tensor(values), tf.tensor(actual[i]!))).toBeLessThan(1e-4);
    });
  });

  test('is idempotent, takes a list of layers, and leaves the saved topology stock', async () => {
    const { model, base, batchNorms } = await fineTuneSetup({ patched: true });
    expect(keepBatchNormInInferenceMode(model)).toBe(BATCH_NORM_LAYERS);
    expect(keepBatchNormInInferenceMode(base.layers.slice(0, 4))).toBe(1);
    const call = batchNorms[0]!.call;
    keepBatchNormInInferenceMode(base);
    expect(batchNorms[0]!.call).toBe(call);

    let savedTopology: unknown;
    await base.save(tf.io.withSaveHandler(async (artifacts) => {
      savedTopology = artifacts.modelTopology;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const savedLayers = (savedTopology as { config: { layers: { class_name: string }[] } }).config.layers;
    expect(savedLayers.filter((layer) => layer.class_name === 'BatchNormalization')).toHaveLength(BATCH_NORM_LAYERS);
  });
});
