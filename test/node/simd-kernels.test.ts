/**
 * Stage 2's WebAssembly SIMD kernels (client/trainer/simd/): each one's results and gradients against tfjs's cpu
 * backend, shapes they do not take falling back (counted, still right), zeros and large values giving no NaN, the
 * binary being the one its source says, and a fine-tuning run on them being the run the composite kernels make.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildReplicaModel } from '../../client/trainer/cut-model';
import { partGradients } from '../../client/trainer/data-parallel';
import { releaseModels } from '../../client/engine/release';
import { SampleDropout } from '../../client/trainer/sample-dropout';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { kernelUse, resetKernelUse } from '../../client/trainer/simd/kernel-use';
import { SHARED_MEMORY_WASM } from '../../client/trainer/simd/simd-binary';
import { turnSimdKernelsOff, type SimdKernels } from '../../client/trainer/simd/simd-module';
import { useSimdTrainingOps } from '../../client/trainer/simd/simd-layers';
import { train } from '../../client/trainer/train';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { BINARY_MODULE, simdBinaryModule } from '../../tools/build-simd';
import { relativeError, seededValues } from '../support/values';
import { useBackend, type TestBackend } from '../../tools/measure/tf-node';
import { loadFlowersBase, trainJobOf, wasmFlowersFixture } from '../support/trainer-fixtures';

const MAX_RELATIVE_ERROR = 1e-4;


/** `compute` on the cpu backend and on wasm (its kernels' calls counted), each result's relative error. */
async function againstCpu(compute: () => Float32Array[]): Promise<{ errors: number[]; wasm: Float32Array[] }> {
  const onBackend = async (backend: TestBackend) => {
    await useBackend(backend);
    return compute();
  };
  const cpu = await onBackend('cpu');
  resetKernelUse();
  const wasm = await onBackend('wasm');
  return { errors: cpu.map((expected, i) => relativeError(expected, wasm[i]!)), wasm };
}

/** The value and gradients (input, filter) of sum(fused.conv2d(x, filter) * upstream), no bias nor activation. */
function pointwise(xShape: [number, number, number, number], outChannels: number, scale = 1): () => Float32Array[] {
  return () => tf.tidy(() => {
    const filterShape: [number, number, number, number] = [1, 1, xShape[3], outChannels];
    const x = tf.tensor4d(seededValues(tf.util.sizeFromShape(xShape), 1, scale), xShape);
    const filter = tf.tensor4d(seededValues(tf.util.sizeFromShape(filterShape), 2, scale), filterShape);
    const conv = (x: tf.Tensor, filter: tf.Tensor) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same' });
    const upstream = tf.tensor(seededValues(xShape[0] * xShape[1] * xShape[2] * outChannels, 3), [...xShape.slice(0, 3), outChannels]);
    const [dx, dFilter] = tf.grads((x: tf.Tensor, filter: tf.Tensor) => tf.sum(tf.mul(conv(x, filter), upstream)))([x, filter]);
    return [conv(x, filter), dx!, dFilter!].map((t) => t.dataSync() as Float32Array);
  });
}

/** The value and gradients of sum(layer(x) * upstream): input, then every trainable weight of the layer. */
function throughLayer(make: () => tfl.layers.Layer, xShape: [number, number, number, number], scale = 1): () => Float32Array[] {
  return () => {
    const layer = make();
    layer.build(xShape);
    layer.setWeights(layer.weights.map((w, i) => {
      const shape = w.shape as number[];
      const values = seededValues(tf.util.sizeFromShape(shape), 10 + i);
      // Moving variances must be positive.
      return tf.tensor(/moving_variance/.test(w.name) ? values.map((v) => v + 1.5) : values, shape);
    }));
    useSimdTrainingOps([layer]);
    return tf.tidy(() => {
      const x = tf.tensor(seededValues(tf.util.sizeFromShape(xShape), 4, scale), xShape);
      const upstream = tf.tensor(seededValues(tf.util.sizeFromShape(xShape), 5), xShape);
      const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const value = layer.apply(x) as tf.Tensor;
      const loss = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, upstream)) as tf.Scalar;
      const weightGradients = variables.length === 0 ? [] : Object.values(tf.variableGrads(loss, variables).grads);
      const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, upstream)))(x);
      return [value, dx, ...weightGradients].map((t) => t.dataSync() as Float32Array);
    });
  };
}

beforeAll(async () => {
  // As the trainer's workers do: the kernels are registered before the backend starts.
  registerWasmBackpropKernels();
  await useBackend('wasm');
});

describe('the SIMD kernels', () => {
  test("a convolution they do not take runs on wasm's own kernel (a bias and ReLU6: the compiled base's)", async () => {
    const { errors } = await againstCpu(() => tf.tidy(() => {
      const x = tf.tensor4d(seededValues(2 * 4 * 4 * 8, 1), [2, 4, 4, 8]);
      const filter = tf.tensor4d(seededValues(8 * 16, 2), [1, 1, 8, 16]);
      const bias = tf.tensor1d(seededValues(16, 3));
      return [tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same', activation: 'relu6' }).dataSync() as Float32Array];
    }));
    expect(errors[0]).toBeLessThan(MAX_RELATIVE_ERROR);
    expect(kernelUse()[tf.FusedConv2D]).toEqual({ simd: 0, fallback: 1, reasons: ['a bias'] });
  });

  test('the binary the trainer loads is the one kernels.wat assembles to', async () => {
    expect(await readFile(BINARY_MODULE, 'utf8')).toBe(await simdBinaryModule());
  });

  test("the shared-memory build (tfjs-wasm's threaded one) runs on a shared memory and writes only what it is given", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const bytes = Uint8Array.from(atob(SHARED_MEMORY_WASM), (c) => c.charCodeAt(0));
    const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as SimdKernels;
    const floats = new Float32Array(memory.buffer);
    floats.set([-1, 0, 3, 6, 7, 2], 0); // x
    floats.set([1, 2, 3, 4, 5, 6], 16); // dy
    floats.fill(9, 32, 40);
    kernels.reluBackprop(0, 64, 128, 6, 6);
    expect(Array.from(floats.subarray(32, 40))).toEqual([0, 0, 3, 4, 0, 6, 9, 9]);
  });

  test.each([
    { name: 'rows a multiple of 4', x: [2, 6, 6, 16], out: 32 },
    { name: 'rows left over (3 x 5 x 5), many k blocks in the filter gradient', x: [3, 5, 5, 8], out: 1280 },
    { name: 'one pixel', x: [1, 1, 1, 8], out: 8 },
    { name: "MobileNetV2's Conv_1 at 96 px", x: [2, 3, 3, 112], out: 1280 },
  ] as const)('a pointwise convolution and its gradients match cpu: $name', async ({ x, out }) => {
    const { errors } = await againstCpu(pointwise([...x], out));
    for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
    const use = kernelUse();
    for (const kernel of [tf.FusedConv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter]) expect(use[kernel]?.fallback, kernel).toBe(0);
    expect(use[tf.Conv2DBackpropFilter]?.simd).toBe(1);
  });

  test.each([
    { name: 'ReLU(6)', make: () => tfl.layers.reLU({ maxValue: 6 }) },
    { name: 'ReLU', make: () => tfl.layers.reLU({}) },
    { name: 'BatchNormalization', make: () => tfl.layers.batchNormalization({}) },
  ])('$name on SIMD: values and gradients match cpu', async ({ make }) => {
    // Values around the ReLU's bounds (|x| up to 8 crosses 0 and 6).
    const { errors } = await againstCpu(throughLayer(make, [2, 5, 5, 24], 8));
    for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
    expect(Object.values(kernelUse()).every((use) => use.simd > 0 && use.fallback === 0)).toBe(true);
  });

  test('shapes they do not take fall back to the composite kernels, counted with the reason, and stay right', async () => {
    const cases: [string, () => Float32Array[], RegExp][] = [
      [tf.Conv2DBackpropFilter, pointwise([2, 4, 4, 8], 12), /12 output channels/],
      ['GraftScaleShiftBackprop', throughLayer(() => tfl.layers.batchNormalization({}), [2, 3, 3, 6]), /6 channels/],
      [tf.DepthwiseConv2dNativeBackpropFilter, () => tf.tidy(() => {
        const x = tf.tensor4d(seededValues(2 * 6 * 6 * 6, 7), [2, 6, 6, 6]);
        const filter = tf.tensor4d(seededValues(3 * 3 * 6, 8), [3, 3, 6, 1]);
        const upstream = tf.tensor4d(seededValues(2 * 3 * 3 * 6, 9), [2, 3, 3, 6]);
        const grads = tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'), upstream)))([x, filter]);
        return grads.map((g) => g.dataSync() as Float32Array);
      }), /6 channels/],
    ];
    for (const [kernel, compute, reason] of cases) {
      const { errors } = await againstCpu(compute);
      for (const error of errors) expect(error, kernel).toBeLessThan(MAX_RELATIVE_ERROR);
      const use = kernelUse()[kernel]!;
      expect(use.fallback, kernel).toBeGreaterThan(0);
      expect(use.reasons.join('; '), kernel).toMatch(reason);
    }
  });

  test('zeros give zeros and large values finite gradients, no NaN', async () => {
    for (const scale of [0, 1e12]) {
      const computations = [
        pointwise([2, 3, 3, 16], 24, scale),
        throughLayer(() => tfl.layers.reLU({ maxValue: 6 }), [2, 3, 3, 16], scale),
        throughLayer(() => tfl.layers.batchNormalization({}), [2, 3, 3, 16], scale),
      ];
      for (const compute of computations) {
        const { errors, wasm } = await againstCpu(compute);
        for (const values of wasm) expect(values.every(Number.isFinite)).toBe(true);
        for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
      }
    }
  });
});

describe('fine-tuning on the SIMD kernels', () => {
  const SIZE = 96;
  const SETTINGS = { ...DEFAULT_SETTINGS, batchSize: 16, headEpochs: 2, fineTuneEpochs: 2, split: { validation: 0.3, test: 0 } };

  test("a step of stage 2's model (layers from 100 on, the head) has the cpu backend's gradients", async () => {
    const gradientsOn = async (backend: TestBackend): Promise<Float32Array[]> => {
      await useBackend(backend);
      const model = buildReplicaModel(await loadFlowersBase(SIZE), 5, SETTINGS);
      const inputs = model.inputs.map((input, k) => seededValues(2 * tf.util.sizeFromShape(input.shape.slice(1) as number[]), 20 + k, 3));
      const part = partGradients(model, model.trainableWeights, new SampleDropout(model.layers), { inputs, labels: Int32Array.from([1, 3]) },
        { indices: [0, 1], epoch: 0, batchSize: 2 }, { seed: 1, classCount: 5, classWeights: null, labelSmoothing: 0 });
      const values = part.gradients.map((g) => g.dataSync() as Float32Array);
      tf.dispose([...part.gradients, part.loss, part.correct]);
      releaseModels(model);
      return values;
    };
    const cpu = await gradientsOn('cpu');
    resetKernelUse();
    const wasm = await gradientsOn('wasm');
    const errors = cpu.map((expected, i) => relativeError(expected, wasm[i]!));
    console.log(`stage 2 at ${SIZE} px: ${errors.length} gradients, worst relative error ${Math.max(...errors).toExponential(1)}`);
    for (const error of errors) expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
    expect(Object.values(kernelUse()).every((use) => use.fallback === 0)).toBe(true);
  });

  test('a fine-tuning run is the run the composite kernels make (first epoch to float rounding)', async () => {
    const fixture = await wasmFlowersFixture({ perClass: 16, inputSize: SIZE, views: SETTINGS.augmentViews, fineTuneAt: SETTINGS.fineTuneAt });
    const runWith = async (off: boolean) => {
      turnSimdKernelsOff(off);
      try {
        const job = trainJobOf(fixture, SETTINGS, await loadFlowersBase(SIZE));
        const run = await train(job);
        releaseModels(run.head, job.base);
        return run.history.epochs;
      } finally {
        turnSimdKernelsOff(false);
      }
    };
    resetKernelUse();
    const composite = await runWith(true);
    expect(Object.values(kernelUse()).every((use) => use.simd === 0)).toBe(true);
    const simd = await runWith(false);
    const first = SETTINGS.headEpochs;
    console.log(`first fine-tuning epoch's loss: ${composite[first]!.loss} (composite), ${simd[first]!.loss} (SIMD)`);
    expect(Math.abs(simd[first]!.loss - composite[first]!.loss) / composite[first]!.loss).toBeLessThan(1e-5);
    expect(simd[first]!.valAccuracy).toBe(composite[first]!.valAccuracy);
  });
});
