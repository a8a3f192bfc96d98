/**
 * A training run's state as plain, structured-cloneable data (the fields of the cache's checkpoint record), and the
 * conversions between it and live tfjs objects: trainable weights by name, optimizer slots in tfjs's order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { NamedArray } from '../../shared/training';

type LayerVariable = tfl.LayerVariable;


async function toNamedArray(name: string, tensor: tf.Tensor): Promise<NamedArray> {
  const values = await tensor.data();
  return { name, shape: [...tensor.shape], data: values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>) };
}

/** Copies of the variables' values, named by their layer-scoped names ('head_output/kernel'). */
export async function weightsToArrays(variables: readonly LayerVariable[]): Promise<NamedArray[]> {
  return Promise.all(variables.map((v) => toNamedArray(v.originalName, v.read())));
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Writes saved values into the variables, by name; every variable must be there with its shape. */
export function arraysToWeights(variables: readonly LayerVariable[], arrays: readonly NamedArray[]): void {
  const byName = new Map(arrays.map((a) => [a.name, a]));
  if (byName.size !== variables.length) {
    throw new Error(`checkpoint holds ${byName.size} trainable weights, the model has ${variables.length}`);
  }
  const missing = variables.filter((v) => {
    const saved = byName.get(v.originalName);
    return saved === undefined || !sameShape(v.shape, saved.shape) || saved.data.length !== tf.util.sizeFromShape(saved.shape);
  });
  if (missing.length > 0) {
    throw new Error(`checkpoint does not match the model: ${missing.map((v) => `${v.originalName} ${JSON.stringify(v.shape)}`).join(', ')}`);
  }
  for (const v of variables) {
    const saved = byName.get(v.originalName)!;
    const value = tf.tensor(saved.data, saved.shape, 'float32');
    v.write(value);
    value.dispose();
  }
}

export async function optimizerToArrays(optimizer: tf.Optimizer): Promise<NamedArray[]> {
  const weights = await optimizer.getWeights();
  try {
    return await Promise.all(weights.map((w) => toNamedArray(w.name, w.tensor)));
  } finally {
    // getWeights() makes a fresh scalar for the iteration count; the slots are the optimizer's own variables.
    tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));
  }
}

/**
 * Restores an optimizer's slots and iteration count. tfjs matches slots to variables by position, so the saved
 * slots are checked against the variables' shapes in order before anything is set.
 */
export async function arraysToOptimizer(
  optimizer: tf.Optimizer,
  arrays: readonly NamedArray[],
  variables: readonly LayerVariable[],
): Promise<void> {
  const slots = arrays.slice(1);
  const n = variables.length;
  const matches =
    arrays[0]?.name === 'iter' &&
    n > 0 &&
    slots.length % n === 0 &&
    slots.every((slot, i) => sameShape(variables[i % n].shape, slot.shape));
  if (!matches) throw new Error(`checkpoint's optimizer state (${arrays.length} arrays) does not match the ${n} trainable weights`);
  const tensors = arrays.map((a) => ({ name: a.name, tensor: tf.tensor(a.data, a.shape, 'float32') }));
  try {
    await optimizer.setWeights(tensors);
  } finally {
    // setWeights makes its own variables from these.
    tf.dispose(tensors.map((t) => t.tensor));
  }
}
