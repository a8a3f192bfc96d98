/**
 * tfjs kernels for the wasm backend on stage 2's SIMD kernels (simd-module.ts). Each replaces a kernel for the shapes
 * it takes and hands every other call to the kernel it replaces (`fallback`): the pointwise (1x1) convolution and
 * both its gradients, and both depthwise gradients. Three more are Graft's own, for training-ops.ts: ReLU's gradient,
 * and BatchNormalization's per-channel scale and shift with its gradients. Every call is counted, SIMD or fallback
 * with the reason, for the step profile (step-profile.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernelsOf, simdUnavailable, type SimdKernels } from './simd-module';
import { countUse } from './kernel-use';

/** dx = dy where 0 < x <= max, else 0. Inputs x, dy; attr max. */
export const RELU_BACKPROP = 'GraftReluBackprop';
/** y = x * scale + shift over the last axis. Inputs x, scale, shift. */
export const SCALE_SHIFT = 'GraftScaleShift';
/** [dx, dscale, dshift] of SCALE_SHIFT. Inputs x, dy, scale. */
export const SCALE_SHIFT_BACKPROP = 'GraftScaleShiftBackprop';

/** The SIMD kernels, if `backend` can run them. */
export function simdOf(backend: unknown): SimdKernels | null {
  return simdKernelsOf(backend as BackendWasm);
}

/** Why `backend` cannot run the SIMD kernels, or null. */
export function simdMissing(backend: unknown): string | null {
  return simdUnavailable(backend as BackendWasm);
}

type Shape4D = [number, number, number, number];
type Info = tf.backend_util.Conv2DInfo;
// The engine passes each kernel its own Inputs/Attrs types; tfjs's backends cast the same way.
type Args = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: BackendWasm };

/** A kernel that runs `simd` where `unsupported` says nothing against it, and `fallback` otherwise. */
function withFallback(
  kernelName: string,
  fallback: KernelFunc,
  unsupported: (args: Args) => string | null,
  simd: (args: Args, kernels: SimdKernels) => TensorInfo,
): KernelConfig {
  const kernelFunc = (args: Args) => {
    const why = simdUnavailable(args.backend) ?? unsupported(args);
    countUse(kernelName, why);
    return why === null ? simd(args, simdOf(args.backend)!) : fallback(args as unknown as Parameters<KernelFunc>[0]);
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Why a convolution is not one the pointwise kernels take (n channels of the matrix's columns), or null. */
function notPointwise(info: Info, dtype: string, dataFormat: unknown, columns: number): string | null {
  if (dtype !== 'float32') return `dtype ${dtype}`;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return `data format ${dataFormat}`;
  const pointwise = info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
  if (!pointwise) return 'not a pointwise convolution';
  if (columns % 8 !== 0) return `${columns} output channels (not a multiple of 8)`;
  if (info.batchSize * info.outHeight * info.outWidth < 1 || info.inChannels < 1) return 'an empty tensor';
  return null;
}

const pixels = (info: Info) => info.batchSize * info.outHeight * info.outWidth;
/** Values of k per block, so that a block of the right operand ([k, n] floats) stays within 128 kB of cache. */
const kBlock = (n: number) => Math.max(16, Math.floor(32768 / n));

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>, depthwise: boolean): Info {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4D, filterShape as Shape4D, attrs.strides as number, (attrs.dilations ?? 1) as number,
    attrs.pad as 'same', attrs.dimRoundingMode as 'floor', depthwise, 'channelsLast');
}

/** FusedConv2D of a pointwise convolution without bias or activation (stage 2's layers): y[r] = x[r] W. */
export function pointwiseForwardKernel(fallback: KernelFunc): KernelConfig {
  const info = ({ inputs: { x, filter }, attrs }: Args) => convInfo(x.shape, filter.shape, attrs, false);
  return withFallback(tf.FusedConv2D, fallback, (args) => {
    const { inputs, attrs } = args;
    if (inputs.bias !== undefined || inputs.preluActivationWeights !== undefined) return 'a bias';
    if (attrs.activation !== 'linear') return `activation ${attrs.activation}`;
    return notPointwise(info(args), inputs.x.dtype, attrs.dataFormat, inputs.filter.shape[3]!);
  }, (args, simd) => {
    const { inputs: { x, filter }, backend } = args;
    const c = info(args);
    const y = backend.makeOutput([c.batchSize, c.outHeight, c.outWidth, c.outChannels], 'float32');
    simd.matmul(heapOffset(backend, x), c.inChannels * 4, 4, heapOffset(backend, filter), heapOffset(backend, y),
      pixels(c), c.inChannels, c.outChannels, kBlock(c.outChannels));
    return y;
  });
}

/** Conv2DBackpropFilter of a pointwise convolution: dW = x^T dy, the batch and pixels folded into rows. */
export function pointwiseFilterKernel(fallback: KernelFunc): KernelConfig {
  const info = ({ inputs: { x }, attrs }: Args) => convInfo(x.shape, attrs.filterShape as number[], attrs, false);
  return withFallback(tf.Conv2DBackpropFilter, fallback,
    (args) => notPointwise(info(args), args.inputs.x.dtype, args.attrs.dataFormat, (args.attrs.filterShape as number[])[3]!),
    (args, simd) => {
      const { inputs: { x, dy }, attrs, backend } = args;
      const c = info(args);
      const dw = backend.makeOutput(attrs.filterShape as number[], 'float32');
      simd.matmul(heapOffset(backend, x), 4, c.inChannels * 4, heapOffset(backend, dy), heapOffset(backend, dw),
        c.inChannels, pixels(c), c.outChannels, kBlock(c.outChannels));
      return dw;
    });
}

/** Conv2DBackpropInput of a pointwise convolution: dx = dy W^T (W^T is the filter's small transpose). */
export function pointwiseInputKernel(fallback: KernelFunc): KernelConfig {
  const info = ({ inputs: { filter }, attrs }: Args) => convInfo(attrs.inputShape as number[], filter.shape, attrs, false);
  return withFallback(tf.Conv2DBackpropInput, fallback,
    (args) => notPointwise(info(args), args.inputs.dy.dtype, args.attrs.dataFormat, (args.attrs.inputShape as number[])[3]!),
    (args, simd) => {
      const { inputs: { dy, filter }, attrs, backend } = args;
      const c = info(args);
      const transposed = tf.tidy(() => tf.transpose(tf.reshape(asTensor(filter), [c.inChannels, c.outChannels])));
      const dx = backend.makeOutput(attrs.inputShape as number[], 'float32');
      simd.matmul(heapOffset(backend, dy), c.outChannels * 4, 4, heapOffset(backend, transposed), heapOffset(backend, dx),
        pixels(c), c.outChannels, c.inChannels, kBlock(c.inChannels));
      transposed.dispose();
      return dx;
    });
}

/** Why the depthwise kernels cannot take this convolution, or null when they can. */
function notDepthwise(info: Info, filterShape: number[], dtype: string): string | null {
  if (dtype !== 'float32') return `dtype ${dtype}`;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return `dilation ${info.dilationHeight}x${info.dilationWidth}`;
  if (filterShape[3] !== 1) return `depth multiplier ${filterShape[3]}`;
  if (info.inChannels % 4 !== 0) return `${info.inChannels} channels (not a multiple of 4)`;
  if ([info.batchSize, info.inHeight, info.inWidth, info.outHeight, info.outWidth].some((d) => d < 1)) return 'an empty tensor';
  return null;
}

function depthwiseShape(c: Info) {
  return [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth,
    c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left,
  ] as const;
}

/** DepthwiseConv2dNativeBackpropFilter (the filter gradient, [kh, kw, c, 1]). */
export function depthwiseFilterKernel(fallback: KernelFunc): KernelConfig {
  const info = ({ inputs: { x }, attrs }: Args) => convInfo(x.shape, attrs.filterShape as number[], attrs, true);
  return withFallback(tf.DepthwiseConv2dNativeBackpropFilter, fallback,
    (args) => notDepthwise(info(args), args.attrs.filterShape as number[], args.inputs.x.dtype),
    (args, simd) => {
      const { inputs: { x, dy }, attrs, backend } = args;
      const dw = backend.makeOutput(attrs.filterShape as number[], 'float32');
      simd.depthwiseBackprop(0, heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dw), ...depthwiseShape(info(args)));
      return dw;
    });
}

/** DepthwiseConv2dNativeBackpropInput. */
export function depthwiseInputKernel(fallback: KernelFunc): KernelConfig {
  const info = ({ inputs: { filter }, attrs }: Args) => convInfo(attrs.inputShape as number[], filter.shape, attrs, true);
  return withFallback(tf.DepthwiseConv2dNativeBackpropInput, fallback,
    (args) => notDepthwise(info(args), args.inputs.filter.shape, args.inputs.dy.dtype),
    (args, simd) => {
      const { inputs: { dy, filter }, attrs, backend } = args;
      const dx = backend.makeOutput(attrs.inputShape as number[], 'float32');
      simd.depthwiseBackprop(1, heapOffset(backend, dx), heapOffset(backend, dy), heapOffset(backend, filter), ...depthwiseShape(info(args)));
      return dx;
    });
}

/**
 * Graft's own kernels. They run only on SIMD: training-ops.ts calls them only where `simdOf` gave kernels and the
 * shapes fit (channels a multiple of 4), and keeps tfjs's ops otherwise.
 */
export const graftKernels: KernelConfig[] = [
  {
    kernelName: RELU_BACKPROP,
    backendName: 'wasm',
    kernelFunc: (({ inputs: { x, dy }, attrs, backend }: { inputs: Record<string, TensorInfo>; attrs: { max: number }; backend: BackendWasm }) => {
      const dx = backend.makeOutput(x.shape, 'float32');
      simdOf(backend)!.reluBackprop(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dx), tf.util.sizeFromShape(x.shape), attrs.max);
      return dx;
    }) as unknown as KernelFunc,
  },
  {
    kernelName: SCALE_SHIFT,
    backendName: 'wasm',
    kernelFunc: (({ inputs: { x, scale, shift }, backend }: { inputs: Record<string, TensorInfo>; backend: BackendWasm }) => {
      const channels = scale.shape[0]!;
      const y = backend.makeOutput(x.shape, 'float32');
      simdOf(backend)!.scaleShift(
        heapOffset(backend, x), heapOffset(backend, scale), heapOffset(backend, shift), heapOffset(backend, y),
        tf.util.sizeFromShape(x.shape) / channels, channels);
      return y;
    }) as unknown as KernelFunc,
  },
  {
    kernelName: SCALE_SHIFT_BACKPROP,
    backendName: 'wasm',
    kernelFunc: (({ inputs: { x, dy, scale }, backend }: { inputs: Record<string, TensorInfo>; backend: BackendWasm }) => {
      const channels = scale.shape[0]!;
      const dx = backend.makeOutput(x.shape, 'float32');
      const dscale = backend.makeOutput([channels], 'float32');
      const dshift = backend.makeOutput([channels], 'float32');
      simdOf(backend)!.scaleShiftBackprop(
        heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, scale), heapOffset(backend, dx),
        heapOffset(backend, dscale), heapOffset(backend, dshift), tf.util.sizeFromShape(x.shape) / channels, channels);
      return [dx, dscale, dshift];
    }) as unknown as KernelFunc,
  },
];

/** Kernel inputs are usually Tensors already; a bare TensorInfo is wrapped (the caller's tidy releases the wrapper). */
function asTensor(info: TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}
