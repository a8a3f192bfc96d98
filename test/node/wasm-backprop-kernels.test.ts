/**
 * The wasm gradient kernels: without them a fine-tuning step cannot run on wasm; with them the gradients of every
 * convolution shape MobileNet uses, and of a real MobileNetV2 fine-tuning step, match the cpu backend's kernels.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { useBackend, type TestBackend } from '../../tools/measure/tf-node';
import { recipeFineTuneModel } from '../support/tf-node';
import { relativeError, seededValues } from '../support/values';

const MISSING_ON_WASM = [
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
];
const MAX_RELATIVE_ERROR = 1e-4;

type Padding = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  op: 'conv2d' | 'depthwiseConv2d' | 'fused.conv2d' | 'fused.depthwiseConv2d';
  input: [number, number, number, number];
  /** [height, width, out channels]; depthwise filters get [height, width, in channels, 1]. */
  filter: [number, number, number];
  strides: 1 | 2;
  pad: Padding;
}

const CASES: ConvCase[] = [
  { op: 'conv2d', input: [2, 15, 15, 8], filter: [1, 1, 16], strides: 1, pad: 'same' },
  { op: 'conv2d', input: [2, 14, 14, 16], filter: [1, 1, 8], strides: 1, pad: 'valid' },
  { op: 'conv2d', input: [2, 15, 15, 8], filter: [3, 3, 16], strides: 2, pad: 'same' },
  { op: 'conv2d', input: [2, 14, 14, 8], filter: [3, 3, 16], strides: 2, pad: 'same' },
  { op: 'conv2d', input: [2, 15, 15, 3], filter: [3, 3, 16], strides: 2, pad: 'valid' },
  { op: 'conv2d', input: [2, 14, 14, 8], filter: [3, 3, 16], strides: 2, pad: 'valid' },
  { op: 'conv2d', input: [2, 14, 14, 8], filter: [3, 3, 8], strides: 1, pad: 'same' },
  { op: 'conv2d', input: [2, 14, 14, 3], filter: [3, 3, 8], strides: 2, pad: [[0, 0], [0, 1], [0, 1], [0, 0]] },
  { op: 'depthwiseConv2d', input: [2, 15, 15, 24], filter: [3, 3, 24], strides: 1, pad: 'same' },
  { op: 'depthwiseConv2d', input: [2, 14, 14, 24], filter: [3, 3, 24], strides: 1, pad: 'valid' },
  { op: 'depthwiseConv2d', input: [2, 14, 14, 24], filter: [3, 3, 24], strides: 2, pad: 'same' },
  { op: 'depthwiseConv2d', input: [2, 15, 15, 24], filter: [3, 3, 24], strides: 2, pad: 'same' },
  { op: 'depthwiseConv2d', input: [2, 14, 14, 24], filter: [3, 3, 24], strides: 2, pad: 'valid' },
  { op: 'depthwiseConv2d', input: [2, 15, 15, 24], filter: [3, 3, 24], strides: 2, pad: 'valid' },
  {
    op: 'depthwiseConv2d', input: [2, 14, 14, 16], filter: [3, 3, 16], strides: 2,
    pad: [[0, 0], [0, 1], [0, 1], [0, 0]],
  },
  { op: 'fused.conv2d', input: [2, 15, 15, 8], filter: [1, 1, 16], strides: 1, pad: 'same' },
  { op: 'fused.conv2d', input: [2, 14, 14, 8], filter: [3, 3, 16], strides: 2, pad: 'same' },
  { op: 'fused.depthwiseConv2d', input: [2, 15, 15, 24], filter: [3, 3, 24], strides: 1, pad: 'same' },
  { op: 'fused.depthwiseConv2d', input: [2, 15, 15, 24], filter: [3, 3, 24], strides: 2, pad: 'valid' },
];


function isDepthwise(c: ConvCase): boolean {
  return c.op === 'depthwiseConv2d' || c.op === 'fused.depthwiseConv2d';
}

/** Gradients of sum(conv(x) * upstream) with respect to x, the filter and a bias, on the active backend. */
function convGradients(c: ConvCase): Float32Array[] {
  const [height, width, outChannels] = c.filter;
  const inChannels = c.input[3];
  const filterShape: [number, number, number, number] = isDepthwise(c)
    ? [height, width, inChannels, 1]
    : [height, width, inChannels, outChannels];
  const x = tf.tensor4d(seededValues(tf.util.sizeFromShape(c.input), 1), c.input);
  const filter = tf.tensor4d(seededValues(tf.util.sizeFromShape(filterShape), 2), filterShape);
  const bias = tf.tensor1d(seededValues(outChannels, 3));
  const convolve = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor): tf.Tensor => {
    const [x4, f4] = [x as tf.Tensor4D, filter as tf.Tensor4D];
    const fusedPad = c.pad as 'same' | 'valid'; // the fused ops take no explicit padding
    switch (c.op) {
      case 'conv2d': return tf.add(tf.conv2d(x4, f4, c.strides, c.pad), bias);
      case 'depthwiseConv2d': return tf.add(tf.depthwiseConv2d(x4, f4, c.strides, c.pad), bias);
      case 'fused.conv2d': return tf.fused.conv2d({ x: x4, filter: f4, strides: c.strides, pad: fusedPad, bias });
      case 'fused.depthwiseConv2d':
        return tf.fused.depthwiseConv2d({ x: x4, filter: f4, strides: c.strides, pad: fusedPad, bias });
    }
  };
  const gradients = tf.grads((x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) => {
    const y = convolve(x, filter, bias);
    return tf.sum(tf.mul(y, tf.tensor(seededValues(y.size, 4), y.shape)));
  })([x, filter, bias]);
  const values = gradients.map((g) => g.dataSync() as Float32Array);
  tf.dispose([x, filter, bias, ...gradients]);
  return values;
}

async function computeOn(backend: TestBackend, compute: () => Float32Array[]): Promise<Float32Array[]> {
  await useBackend(backend);
  return compute();
}

describe('before registration', () => {
  test('wasm has no filter/depthwise gradient kernels, so a depthwise training step fails', async () => {
    await useBackend('wasm');
    for (const name of MISSING_ON_WASM) expect(tf.getKernel(name, 'wasm')).toBeUndefined();
    const depthwise: ConvCase = CASES.find((c) => c.op === 'depthwiseConv2d')!;
    expect(() => convGradients(depthwise))
      .toThrow(/Kernel 'DepthwiseConv2dNativeBackprop(Input|Filter)' not registered for backend 'wasm'/);
  });
});

describe('registered', () => {
  beforeAll(() => {
    registerWasmBackpropKernels();
    registerWasmBackpropKernels(); // idempotent
  });

  test('the three missing kernels are registered for wasm', () => {
    for (const name of MISSING_ON_WASM) expect(tf.getKernel(name, 'wasm')?.kernelFunc).toBeTypeOf('function');
  });

  test.each(CASES)('$op $input filter $filter stride $strides pad $pad: gradients match cpu', async (c) => {
    const onCpu = await computeOn('cpu', () => convGradients(c));
    const onWasm = await computeOn('wasm', () => convGradients(c));
    const errors = onCpu.map((expected, i) => relativeError(expected, onWasm[i]!));
    const label = `${c.op} ${c.input} ${c.filter} s${c.strides} ${JSON.stringify(c.pad)}`;
    console.log(`${label}: relative error dx, dfilter, dbias`, errors.map((e) => e.toExponential(1)).join(', '));
    for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  test('conv2dTranspose (the forward use of Conv2DBackpropInput) still matches cpu', async () => {
    const run = (): Float32Array[] => tf.tidy(() => {
      const x = tf.tensor4d(seededValues(2 * 7 * 7 * 16, 5), [2, 7, 7, 16]);
      const filter = tf.tensor4d(seededValues(3 * 3 * 8 * 16, 6), [3, 3, 8, 16]);
      return [tf.conv2dTranspose(x, filter, [2, 14, 14, 8], 2, 'same').dataSync() as Float32Array];
    });
    const [onCpu] = await computeOn('cpu', run);
    const [onWasm] = await computeOn('wasm', run);
    expect(relativeError(onCpu!, onWasm!)).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  test('kernels also take bare TensorInfo inputs, as backends pass them between kernels', async () => {
    await useBackend('wasm');
    const x = tf.tensor4d(seededValues(2 * 9 * 9 * 8, 9), [2, 9, 9, 8]);
    const dy = tf.tensor4d(seededValues(2 * 5 * 5 * 8, 10), [2, 5, 5, 8]);
    const attrs = { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 8, 1] };
    const viaEngine = tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, attrs) as tf.Tensor;
    const bare = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
    const kernel = tf.getKernel(tf.DepthwiseConv2dNativeBackpropFilter, 'wasm')!;
    const inputs = { x: bare(x), dy: bare(dy) };
    // A kernel may answer a Tensor or, as the SIMD ones do, a bare TensorInfo: the engine takes both.
    const answer = kernel.kernelFunc({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
    const direct = answer instanceof tf.Tensor ? answer : tf.engine().makeTensorFromTensorInfo(answer);
    expect(direct.dataSync()).toEqual(viaEngine.dataSync());
    tf.dispose([x, dy, viaEngine, direct]);
  });

  test('refuses what it does not implement, with a clear error', async () => {
    await useBackend('wasm');
    const x = tf.zeros([1, 8, 8, 4]);
    const dy = tf.zeros([1, 8, 8, 8]);
    const dyDepthwise = tf.zeros([1, 8, 8, 4]);
    const filter = tf.zeros([3, 3, 4, 2]);
    const depthwiseAttrs = { strides: 1, pad: 'same', dilations: 1 };
    expect(() => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy },
      { ...depthwiseAttrs, filterShape: [3, 3, 4, 2] })).toThrow('only depth multiplier 1 is supported, got 2');
    expect(() => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter },
      { ...depthwiseAttrs, inputShape: [1, 8, 8, 4] })).toThrow('only depth multiplier 1 is supported, got 2');
    expect(() => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy: dyDepthwise },
      { ...depthwiseAttrs, dilations: 2, filterShape: [3, 3, 4, 1] })).toThrow('only dilation 1 is supported');
    expect(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 4, 8] })).toThrow('only NHWC is supported');
    tf.dispose([x, dy, dyDepthwise, filter]);
  });
});

describe('fine-tuning the real MobileNetV2 on wasm', () => {
  const INPUT_SIZE = 96;
  const BATCH = 2;
  const CLASSES = 5;

  /** Base from `fineTuneAt` on trainable, + GlobalAveragePooling2D + Dense(5, softmax), the recipe's model. */
  async function fineTuneModel(fineTuneAt: string | number): Promise<tfl.LayersModel> {
    return (await recipeFineTuneModel({ inputSize: INPUT_SIZE, fineTuneAt, classes: CLASSES, seed: 7 })).model;
  }

  const images = (): tf.Tensor4D =>
    tf.tensor4d(seededValues(BATCH * INPUT_SIZE * INPUT_SIZE * 3, 8), [BATCH, INPUT_SIZE, INPUT_SIZE, 3]);
  const labels = (): tf.Tensor2D =>
    tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % CLASSES), 'int32'), CLASSES) as tf.Tensor2D;

  beforeAll(() => registerWasmBackpropKernels());

  test('trainOnBatch from block_15_expand: finite loss, trainable weights move, frozen layers do not', async () => {
    await useBackend('wasm');
    const model = await fineTuneModel('block_15_expand');
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const frozenKernels = model.layers.flatMap((l) => (l instanceof tfl.LayersModel ? l.layers : [l]))
      .filter((l) => !l.trainable && /Conv/.test(l.getClassName()))
      .flatMap((l) => l.getWeights());
    expect(frozenKernels.length).toBeGreaterThan(40);
    const frozenBefore = frozenKernels.map((w) => w.dataSync().slice());
    const trainableBefore = model.trainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
    expect(trainableBefore.length).toBe(23);

    const x = images();
    const y = labels();
    const loss = await model.trainOnBatch(x, y) as number;

    expect(Number.isFinite(loss)).toBe(true);
    model.trainableWeights.forEach((w, i) => {
      expect(relativeError(trainableBefore[i]!, w.read().dataSync() as Float32Array), w.name).toBeGreaterThan(0);
    });
    frozenKernels.forEach((w, i) => expect(w.dataSync()).toEqual(frozenBefore[i]));
    tf.dispose([x, y]);
  });

  test.each(['block_15_expand', 100])('gradients of a step fine-tuning from %s match cpu', async (fineTuneAt) => {
    const step = async (backend: TestBackend): Promise<{ grads: Float32Array[]; ms: number }> => {
      await useBackend(backend);
      const model = await fineTuneModel(fineTuneAt);
      const x = images();
      const y = labels();
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const lossOf = (): tf.Scalar =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar;
      const run = () => {
        const started = performance.now();
        const { value, grads } = tf.variableGrads(lossOf, variables);
        const values = variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
        const ms = performance.now() - started;
        tf.dispose([value, ...Object.values(grads)]);
        return { grads: values, ms };
      };
      const first = run();
      // The first wasm step grows the heap; time a second one.
      const timed = backend === 'wasm' ? run() : first;
      tf.dispose([x, y]);
      model.dispose();
      return { grads: first.grads, ms: timed.ms };
    };
    const onCpu = await step('cpu');
    const onWasm = await step('wasm');
    const errors = onCpu.grads.map((expected, i) => relativeError(expected, onWasm.grads[i]!));
    console.log(`fine-tune from ${fineTuneAt}, ${BATCH}x${INPUT_SIZE}x${INPUT_SIZE}: ${errors.length} gradients, ` +
      `worst relative error ${Math.max(...errors).toExponential(1)}; ` +
      `step ${onWasm.ms.toFixed(0)} ms on wasm, ${onCpu.ms.toFixed(0)} ms on cpu`);
    for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
  });
});
