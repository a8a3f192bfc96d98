/**
 * Stage 2's ReLU and BatchNormalization layers on the SIMD kernels (simd-kernels.ts). tfjs-layers' ReLU(max_value=6)
 * is clipByValue(relu(x)): its gradient costs five full-size kernels (GreaterEqual, LessEqual, LogicalAnd, Select,
 * Step + Multiply), and inference-mode BatchNormalization's gradient (a broadcast multiply, two sums over the batch
 * and the pixels, each transposing first on wasm) three more; on a MobileNetV2 step from layer 100 they were a third
 * of the time. Here each is one op whose gradient is one pass. The forward values are the stock ones bit for bit
 * (relu6, and x * scale + shift rounded as tf.mul then tf.add), so the run is the same to the rounding of the sums.
 * On any other backend, without SIMD, or for a shape the kernels do not take (channels not a multiple of 4, a
 * BatchNormalization axis other than the last), a layer computes as before; calls are counted either way.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { inferenceScaleShift, keepBatchNormInInferenceMode } from '../../engine/batch-norm-inference';
import { countUse } from './kernel-use';
import { RELU_BACKPROP, SCALE_SHIFT, SCALE_SHIFT_BACKPROP, simdMissing } from './simd-kernels';

type Layer = tfl.layers.Layer;
type Call = Layer['call'];

const patched = new WeakSet<Layer>();

/**
 * Makes the ReLU and BatchNormalization layers among `layers` use the SIMD ops where they can. BatchNormalization
 * layers are put in inference mode (batch-norm-inference.ts) first. Idempotent.
 */
export function useSimdTrainingOps(layers: readonly Layer[]): void {
  for (const layer of layers) {
    if (patched.has(layer)) continue;
    const kind = layer.getClassName();
    if (kind === 'ReLU') patchRelu(layer);
    else if (kind === 'BatchNormalization') patchBatchNorm(layer);
    else continue;
    patched.add(layer);
  }
}

/** Why the SIMD ops cannot take `x` here, or null when they can. */
function unsupported(x: tf.Tensor): string | null {
  if (tf.getBackend() !== 'wasm') return `backend ${tf.getBackend()}`;
  const missing = simdMissing(tf.backend());
  if (missing !== null) return missing;
  if (x.dtype !== 'float32') return `dtype ${x.dtype}`;
  return null;
}

/** tf.customGrad types each argument of its function as `Tensor | GradSaveFunc`; the functions here know which is which. */
function withGradient(f: (...args: never[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }) {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

function only(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

function patchRelu(layer: Layer): void {
  const stock: Call = layer.call.bind(layer);
  const maxValue = (layer as unknown as { maxValue?: number | null }).maxValue;
  const max = maxValue ?? Infinity;
  const forward = (x: tf.Tensor) => (max === 6 ? tf.relu6(x) : max === Infinity ? tf.relu(x) : tf.clipByValue(tf.relu(x), 0, max));
  const relu = withGradient((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: forward(x),
      gradFunc: (dy: tf.Tensor, [input]: tf.Tensor[]) => tf.engine().runKernel(RELU_BACKPROP, { x: input!, dy }, { max }) as tf.Tensor,
    };
  });
  layer.call = (inputs, kwargs) => {
    const x = only(inputs);
    const why = unsupported(x);
    countUse(RELU_BACKPROP, why);
    return why === null ? relu(x) : stock(inputs, kwargs);
  };
}

function patchBatchNorm(layer: Layer): void {
  keepBatchNormInInferenceMode([layer]);
  const stock: Call = layer.call.bind(layer);
  const scaleShift = withGradient((x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, scale]);
    return {
      value: tf.engine().runKernel(SCALE_SHIFT, { x, scale, shift }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [input, factor]: tf.Tensor[]) =>
        tf.engine().runKernel(SCALE_SHIFT_BACKPROP, { x: input!, dy, scale: factor! }) as tf.Tensor[],
    };
  });
  layer.call = (inputs, kwargs) => {
    const x = only(inputs);
    const channels = x.shape[x.rank - 1]!;
    const axis = (layer as unknown as { axis: number }).axis;
    const why = unsupported(x) ??
      (axis !== -1 && axis !== x.rank - 1 ? `axis ${axis}` : channels % 4 !== 0 ? `${channels} channels (not a multiple of 4)` : null);
    countUse(SCALE_SHIFT_BACKPROP, why);
    if (why !== null) return stock(inputs, kwargs);
    return tf.tidy(() => {
      const { scale, shift } = inferenceScaleShift(layer, x.rank);
      return scaleShift(x, scale, shift);
    });
  };
}
