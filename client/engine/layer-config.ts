/**
 * What a tfjs layer's config and weights say, in the folded graph's terms (fold.ts): numbers and pairs, its
 * weights by name as float32, its activation as a fusable one. A setting the graph cannot express is a FoldError
 * naming the layer. Plain tfjs-layers types; reads the weights' values.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { FoldError, type FusedActivation } from './fold';

type Layer = tfl.layers.Layer;

/** The layer's config, as its getConfig() gives it (snake_case keys). */
export function configOf(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** A config value given as one number or two (strides, dilation_rate), as two. */
export function pair(value: unknown, name: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [value[0] as number, value[1] as number];
  throw new Error(`expected ${name} as a number or two numbers, got ${JSON.stringify(value)}`);
}

/** The layer's weight named `suffix` (kernel, bias, gamma...), read out as float32. */
export function weight(layer: Layer, suffix: string): { shape: number[]; values: Float32Array } | null {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.originalName === suffix);
  if (!w) return null;
  return { shape: w.shape as number[], values: w.read().dataSync() as Float32Array };
}

/** weight(), or a FoldError when the layer has no such weight. */
export function requireWeight(layer: Layer, suffix: string) {
  const w = weight(layer, suffix);
  if (!w) throw new FoldError(layer.name, layer.getClassName(), `has no weight '${suffix}'`);
  return w;
}

/** The activation a layer config names, as a fusable one; 'softmax' only where the caller handles it. */
export function activationOf(layer: Layer, name: unknown): FusedActivation | 'softmax' {
  switch (name ?? 'linear') {
    case 'linear':
      return 'none';
    case 'relu':
      return 'relu';
    case 'relu6':
      return 'relu6';
    case 'softmax':
      return 'softmax';
    default:
      throw new FoldError(layer.name, layer.getClassName(), `activation '${String(name)}' is not supported (linear, relu, relu6, softmax are)`);
  }
}

/** A ReLU layer's activation: plain ReLU or ReLU6; leaky or thresholded variants are not supported. */
export function reluOf(layer: Layer): FusedActivation {
  const config = configOf(layer);
  const slope = (config.negative_slope ?? config.negativeSlope ?? 0) as number;
  const threshold = (config.threshold ?? 0) as number;
  const max = (config.max_value ?? config.maxValue ?? null) as number | null;
  if (slope !== 0 || threshold !== 0 || (max !== null && max !== 6)) {
    throw new FoldError(layer.name, 'ReLU', `only ReLU and ReLU6 fold (max_value ${max}, negative_slope ${slope}, threshold ${threshold})`);
  }
  return max === 6 ? 'relu6' : 'relu';
}

/** A ZeroPadding2D config's padding as [[top, bottom], [left, right]]. */
export function normalisePadding(padding: unknown): [[number, number], [number, number]] {
  if (typeof padding === 'number') return [[padding, padding], [padding, padding]];
  if (Array.isArray(padding) && padding.length === 2) {
    const [h, w] = padding as (number | number[])[];
    return [typeof h === 'number' ? [h, h] : [h[0], h[1]], typeof w === 'number' ? [w, w] : [w[0], w[1]]];
  }
  throw new Error(`unexpected ZeroPadding2D padding ${JSON.stringify(padding)}`);
}
