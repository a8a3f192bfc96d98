/**
 * Gradient kernels for the wasm backend, so that a MobileNet can be fine-tuned on it. @tensorflow/tfjs-backend-wasm
 * 4.22 lacks Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput
 * (tensorflow/tfjs#8474), and its own Conv2DBackpropInput is a plain loop about 10x slower than its convolutions.
 * Each kernel here is built from ops that wasm runs natively (XNNPACK convolutions and matMul); ops run inside a kernel
 * are not recorded on the gradient tape. Plain tfjs-core: runs in the trainer's Web Worker as well as in Node.
 *
 * Supported: NHWC, dilation 1, depth multiplier 1, any stride, 'same' / 'valid' / explicit padding.
 * Measured on wasm (tfjs 4.22): StridedSlice and rank > 4 Slice run element by element and matMul with transposeA or
 * transposeB is ~10x slower than an explicit transpose + matMul. So strides are split by reshaping the padded input
 * into stride phases, every slice is rank 4 with long contiguous rows, and every matMul is untransposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropFilterInputs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import {
  depthwiseFilterKernel,
  depthwiseInputKernel,
  graftKernels,
  pointwiseFilterKernel,
  pointwiseForwardKernel,
  pointwiseInputKernel,
} from './simd/simd-kernels';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Shape4D = [number, number, number, number];

/**
 * Registers the gradient kernels for the 'wasm' backend and stage 2's SIMD kernels (simd/simd-kernels.ts): pointwise
 * convolutions forward and backward and the depthwise gradients run there when they can, else on the composite
 * kernels below (wasm's own FusedConv2D for the forward pass). Safe to call any number of times, before or after the
 * backend is initialised (after @tensorflow/tfjs-backend-wasm is loaded). Call it before the first training step.
 */
export function registerWasmBackpropKernels(): void {
  const wasmFusedConv2D = tf.getKernel(tf.FusedConv2D, 'wasm');
  if (wasmFusedConv2D !== undefined && wasmFusedConv2D.kernelFunc !== fusedConv2D?.kernelFunc) {
    // Its setup (binding the C function, run when the backend starts) must stay: the fallback calls it.
    fusedConv2D = { ...wasmFusedConv2D, kernelFunc: pointwiseForwardKernel(wasmFusedConv2D.kernelFunc).kernelFunc };
  }
  const kernels = [sharedIdentity, conv2DBackpropFilter, conv2DBackpropInput, depthwiseFilter, depthwiseInput, ...graftKernels];
  for (const config of fusedConv2D ? [fusedConv2D, ...kernels] : kernels) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

// The engine passes each kernel its own Inputs/Attrs types; tfjs's backends cast the same way.
const conv2DBackpropFilter = pointwiseFilterKernel(composedConv2DBackpropFilter as unknown as KernelFunc);
/** Replaces wasm's own kernel, a plain loop about 10x slower than its convolutions. */
const conv2DBackpropInput = pointwiseInputKernel(composedConv2DBackpropInput as unknown as KernelFunc);
const depthwiseFilter = depthwiseFilterKernel(depthwiseConv2dBackpropFilter as unknown as KernelFunc);
const depthwiseInput = depthwiseInputKernel(depthwiseConv2dBackpropInput as unknown as KernelFunc);
/** wasm's FusedConv2D behind the SIMD pointwise one, once registration has found it. */
let fusedConv2D: KernelConfig | null = null;

/**
 * Replaces wasm's Identity, which copies the tensor: tfjs clones (Identity) every tensor a kernel keeps for the
 * backward pass, so a training step copied each large activation several times (a tenth of a MobileNetV2 step from
 * layer 100). This one shares the data and counts the reference, as the cpu backend's Identity and wasm's own
 * Reshape do; no wasm kernel writes into its inputs, so sharing is safe.
 */
const sharedIdentity: KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: (({ inputs: { x }, backend }: { inputs: { x: TensorInfo }; backend: tf.KernelBackend }) => {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }) as unknown as KernelFunc,
};

/** dW[i,j,c,o] = sum over n,y,x of xPadded[n, y*sH+i, x*sW+j, c] * dy[n,y,x,o]: im2col of the taps, then one matMul. */
function composedConv2DBackpropFilter(
  { inputs, attrs }: { inputs: Conv2DBackpropFilterInputs; attrs: Conv2DBackpropFilterAttrs },
): tf.Tensor {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm: only NHWC is supported, got dataFormat ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x!.shape as Shape4D, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  return tf.tidy(() => {
    const { batchSize, inChannels, outChannels, outHeight, outWidth, filterHeight, filterWidth, padInfo } = info;
    const rows = batchSize * outHeight * outWidth;
    const dy2D = tf.reshape(asTensor(dy!), [rows, outChannels]);
    const isPointwise = filterHeight === 1 && filterWidth === 1 && info.strideHeight === 1 &&
      info.strideWidth === 1 && padInfo.top === 0 && padInfo.left === 0;
    if (isPointwise) {
      const x2D = tf.reshape(asTensor(x!), [rows, inChannels]);
      // x^T dy; transpose whichever operand is narrower.
      const dW = inChannels <= outChannels
        ? tf.matMul(tf.transpose(x2D), dy2D)
        : tf.transpose(tf.matMul(tf.transpose(dy2D), x2D));
      return tf.reshape(dW, filterShape);
    }
    // Channels first, with the batch folded in, so that each tap is a [inChannels, rows] block ready for the matMul.
    const channelsFirst = tf.transpose(asTensor(x!), [3, 0, 1, 2]);
    const [, , height, width] = channelsFirst.shape;
    const planes = tf.reshape(channelsFirst, [inChannels * batchSize, height, width, 1]);
    const columns = filterTaps(planes, info).map((tap) => tf.reshape(tap, [inChannels, rows]));
    return tf.reshape(tf.matMul(tf.concat(columns, 0), dy2D), filterShape);
  });
}

/**
 * dW[i,j,c] = sum over n,y,x of xPadded[n, y*sH+i, x*sW+j, c] * dy[n,y,x,c]. With the batch folded into the channels
 * ([1, H, W, N*C]) this is, per stride phase of xPadded, one depthwise correlation whose filter is dy: wasm's own
 * depthwiseConv2d, then a sum over the batch.
 */
function depthwiseConv2dBackpropFilter({ inputs, attrs }: {
  inputs: DepthwiseConv2dNativeBackpropFilterInputs;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): tf.Tensor {
  const { x, dy } = inputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  assertDepthwiseSupported('DepthwiseConv2dNativeBackpropFilter', dilations, filterShape);
  const info = tf.backend_util.computeConv2DInfo(
    x!.shape as Shape4D, filterShape, strides, dilations, pad, dimRoundingMode, true);
  return tf.tidy(() => {
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight: sH, strideWidth: sW,
      filterHeight, filterWidth, padInfo } = info;
    const folded = batchSize * inChannels;
    const dyFilter = tf.reshape(tf.transpose(asTensor(dy!), [1, 2, 0, 3]), [outHeight, outWidth, folded, 1]);
    const xFolded = tf.reshape(tf.transpose(asTensor(x!), [1, 2, 0, 3]), [1, inHeight, inWidth, folded]);
    // Taps per phase: filter rows i = q*sH + phaseRow for q < tapRows.
    const tapRows = Math.floor((filterHeight - 1) / sH) + 1;
    const tapCols = Math.floor((filterWidth - 1) / sW) + 1;
    const phaseRows = outHeight + tapRows - 1;
    const phaseCols = outWidth + tapCols - 1;
    const framed = window(xFolded, padInfo.top, phaseRows * sH, padInfo.left, phaseCols * sW);
    const byPhase = tf.reshape(framed, [phaseRows, sH, phaseCols, sW * folded]);
    const perPhase: tf.Tensor[] = [];
    for (let phaseRow = 0; phaseRow < sH; phaseRow++) {
      for (let phaseCol = 0; phaseCol < sW; phaseCol++) {
        const plane = sH === 1 && sW === 1
          ? framed
          : tf.slice(byPhase, [0, phaseRow, 0, phaseCol * folded], [phaseRows, 1, phaseCols, folded]);
        const correlation = tf.depthwiseConv2d(
          tf.reshape(plane, [1, phaseRows, phaseCols, folded]) as tf.Tensor4D, dyFilter as tf.Tensor4D, 1, 'valid');
        perPhase.push(tf.sum(tf.reshape(correlation, [tapRows, tapCols, batchSize, inChannels]), 2));
      }
    }
    // Interleave the phases back: dW[q*sH + phaseRow, r*sW + phaseCol] = perPhase[phaseRow][phaseCol][q, r].
    const phases = tf.reshape(tf.stack(perPhase), [sH, sW, tapRows, tapCols, inChannels]);
    const interleaved = tf.reshape(tf.transpose(phases, [2, 0, 3, 1, 4]), [tapRows * sH, tapCols * sW, inChannels]);
    return tf.reshape(tf.slice(interleaved, [0, 0, 0], [filterHeight, filterWidth, inChannels]), filterShape);
  });
}

/** dx as a stride-1 convolution of the spread dy with the filter reversed and its channels swapped. */
function composedConv2DBackpropInput(
  { inputs, attrs }: { inputs: Conv2DBackpropInputInputs; attrs: Conv2DBackpropInputAttrs },
): tf.Tensor {
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput on wasm: only NHWC is supported, got dataFormat ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter!.shape as Shape4D, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  return tf.tidy(() => {
    const pointwise = info.filterHeight === 1 && info.filterWidth === 1;
    const reversed = pointwise ? asTensor(filter!) : tf.reverse(asTensor(filter!), [0, 1]);
    const flipped = tf.transpose(reversed, [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(spreadAndFrame(asTensor(dy!), info), flipped, 1, 'valid');
  });
}

/** dx as a stride-1 depthwise convolution of the spread dy with the filter reversed: wasm's own depthwiseConv2d. */
function depthwiseConv2dBackpropInput({ inputs, attrs }: {
  inputs: DepthwiseConv2dNativeBackpropInputInputs;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): tf.Tensor {
  const { dy, filter } = inputs;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const filterShape = filter!.shape as Shape4D;
  assertDepthwiseSupported('DepthwiseConv2dNativeBackpropInput', dilations, filterShape);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  return tf.tidy(() => {
    const reversed = tf.reverse(asTensor(filter!), [0, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(spreadAndFrame(asTensor(dy!), info), reversed, 1, 'valid');
  });
}

function assertDepthwiseSupported(kernel: string, dilations: [number, number] | number, filterShape: Shape4D): void {
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error(`${kernel} on wasm: only dilation 1 is supported, got dilations ${dilations}`);
  }
  if (filterShape[3] !== 1) {
    throw new Error(`${kernel} on wasm: only depth multiplier 1 is supported, got ${filterShape[3]}`);
  }
}

/**
 * dy placed back on the input's stride-1 grid (zeros between its values) and framed so that a 'valid' stride-1
 * correlation with the reversed filter gives dx: dx[h] = sum over i of spread[h + top - i] * filter[i].
 */
function spreadAndFrame(dy: tf.Tensor, info: Conv2DInfo): tf.Tensor4D {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight: sH, strideWidth: sW,
    filterHeight, filterWidth, padInfo } = info;
  const channels = dy.shape[3]!;
  let spread = dy;
  if (sH > 1 || sW > 1) {
    // Zeros after each value along H and W; the trailing zero rows and columns are cropped by `window`.
    const cells = tf.reshape(dy, [batchSize, outHeight, 1, outWidth, 1, channels]);
    const padded = tf.pad(cells, [[0, 0], [0, 0], [0, sH - 1], [0, 0], [0, sW - 1], [0, 0]]);
    spread = tf.reshape(padded, [batchSize, outHeight * sH, outWidth * sW, channels]);
  }
  return window(spread, filterHeight - 1 - padInfo.top, inHeight + filterHeight - 1,
    filterWidth - 1 - padInfo.left, inWidth + filterWidth - 1);
}

/**
 * The filter's taps, row-major (i, j): tap (i,j)[b, y, x, d] = tPadded[b, y*sH + i, x*sW + j, d], shape
 * [B, outHeight, outWidth, D]. The padded input is laid out by stride phase once, so each tap is a plain slice.
 */
function filterTaps(t: tf.Tensor, info: Conv2DInfo): tf.Tensor4D[] {
  const { strideHeight: sH, strideWidth: sW, filterHeight, filterWidth, outHeight, outWidth, padInfo } = info;
  const [batch, , , depth] = t.shape as Shape4D;
  // Phase rows/columns needed so that the last tap's window still fits.
  const phaseRows = outHeight + Math.floor((filterHeight - 1) / sH);
  const phaseCols = outWidth + Math.floor((filterWidth - 1) / sW);
  const framed = window(t, padInfo.top, phaseRows * sH, padInfo.left, phaseCols * sW);
  // grid[b, r, pi*sW + pj, c*D + d] = framed[b, r*sH + pi, c*sW + pj, d]
  const byColumnPhase = sW === 1
    ? framed
    : tf.transpose(tf.reshape(framed, [batch * phaseRows * sH, phaseCols, sW, depth]), [0, 2, 1, 3]);
  const grid = tf.reshape(byColumnPhase, [batch, phaseRows, sH * sW, phaseCols * depth]);
  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const phase = (i % sH) * sW + (j % sW);
      const begin = [0, Math.floor(i / sH), phase, Math.floor(j / sW) * depth];
      const tap = tf.slice(grid, begin, [batch, outHeight, 1, outWidth * depth]);
      taps.push(tf.reshape(tap, [batch, outHeight, outWidth, depth]));
    }
  }
  return taps;
}

/**
 * Rows [-top, -top + height) and columns [-left, -left + width) of t (NHWC), zeros outside t: pads where the window
 * overhangs t and crops where t overhangs the window.
 */
function window(t: tf.Tensor, top: number, height: number, left: number, width: number): tf.Tensor4D {
  const [batch, rows, cols, depth] = t.shape as Shape4D;
  const rowStart = Math.max(0, -top);
  const rowEnd = Math.min(rows, height - top);
  const colStart = Math.max(0, -left);
  const colEnd = Math.min(cols, width - left);
  const cropped = rowStart > 0 || rowEnd < rows || colStart > 0 || colEnd < cols
    ? tf.slice(t, [0, rowStart, colStart, 0], [batch, rowEnd - rowStart, colEnd - colStart, depth])
    : t;
  const before = [Math.max(0, top), Math.max(0, left)];
  const after = [height - before[0] - (rowEnd - rowStart), width - before[1] - (colEnd - colStart)];
  if (before[0] === 0 && before[1] === 0 && after[0] === 0 && after[1] === 0) return cropped as tf.Tensor4D;
  return tf.pad(cropped, [[0, 0], [before[0], after[0]], [before[1], after[1]], [0, 0]]) as tf.Tensor4D;
}

/** Kernel inputs are usually Tensors already; a bare TensorInfo is wrapped (the tidy scope releases the wrapper). */
function asTensor(info: TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}
