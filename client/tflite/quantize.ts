/**
 * TFLite's int8 quantization spec (tensorflow.org/lite/performance/quantization_spec), as plain arithmetic:
 * real = scale * (q - zero_point). Weights int8 symmetric (zero point 0, values in -127..127), per channel or per
 * tensor; activations int8 asymmetric per tensor over a range that holds 0; biases int32 with scale
 * input_scale * weight_scale and zero point 0. No tfjs, no DOM.
 */
import type { Quantization } from './schema';

export interface QuantizedWeights {
  values: Int8Array;
  /** One per channel of the quantized dimension (one for per-tensor). */
  scales: number[];
}

/** Used for an all-zero channel: any positive scale represents it exactly; 1 keeps bias scales finite. */
const ZERO_CHANNEL_SCALE = 1;

/**
 * Symmetric int8 of `values` whose channel index is `channelOf(i)`: per channel, scale = max|w| / 127.
 * `channels` = 1 gives per-tensor quantization.
 */
export function quantizeSymmetric(values: Float32Array, channels: number, channelOf: (i: number) => number): QuantizedWeights {
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(values[i]));
  }
  const scales = Array.from(maxAbs, (m) => (m > 0 ? m / 127 : ZERO_CHANNEL_SCALE));
  const quantized = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    quantized[i] = Math.max(-127, Math.min(127, Math.round(values[i] / scales[channelOf(i)])));
  }
  return { values: quantized, scales };
}

/** int32 biases for an op whose input has `inputScale` and whose weights have `weightScales` (per channel or one). */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: number[]): { values: Int32Array; scales: number[] } {
  const scales = Array.from(bias, (_, c) => inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
  const values = Int32Array.from(bias, (b, c) => Math.round(b / scales[c]));
  return { values, scales };
}

/** Asymmetric int8 parameters for an activation whose values lie in [min, max] (widened to hold 0, as TFLite needs). */
export function activationQuantization(min: number, max: number): Quantization {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`cannot quantize an activation range [${min}, ${max}]`);
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  // A tensor that is always 0 still needs a positive scale.
  const scale = hi > lo ? (hi - lo) / 255 : 1 / 255;
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zeroPoint] };
}

/**
 * The uint8 input's parameters that make its bytes mean x * scale + offset (the model's preprocessing): scale as
 * given, zero point -offset / scale rounded (MobileNet's x / 127.5 - 1: zero point 127.5 -> 128, so a byte q means
 * (q - 128) / 127.5, 1/255 below the float model's value: half an input step).
 */
export function uint8InputQuantization(preprocessing: { scale: number; offset: number }): Quantization {
  const zeroPoint = Math.round(-preprocessing.offset / preprocessing.scale);
  if (!(preprocessing.scale > 0) || zeroPoint < 0 || zeroPoint > 255) {
    throw new Error(`preprocessing x * ${preprocessing.scale} + ${preprocessing.offset} cannot be folded into a uint8 input`);
  }
  return { scale: [preprocessing.scale], zeroPoint: [zeroPoint] };
}

/** Softmax's int8 output as TFLite requires it: scale 1/256, zero point -128. */
export const SOFTMAX_INT8_OUTPUT: Quantization = { scale: [1 / 256], zeroPoint: [-128] };
