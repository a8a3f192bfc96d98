/**
 * Runs a folded graph (fold.ts) with tfjs ops: fused conv2d / depthwiseConv2d with bias and activation, pad, add,
 * mean, matMul, softmax. Gives the model's output and, for int8 calibration, every activation tensor's range.
 * Plain tfjs; no DOM, no storage.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedGraph, FoldedOp, FusedActivation } from './fold';

/** Smallest and largest value seen in each graph tensor (index into FoldedGraph.tensors). */
export type TensorRanges = { min: number; max: number }[];

function fusedActivation(activation: FusedActivation): 'linear' | 'relu' | 'relu6' {
  return activation === 'none' ? 'linear' : activation;
}

function applyOp(op: FoldedOp, inputs: tf.Tensor[]): tf.Tensor {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise': {
      const args = {
        x: inputs[0] as tf.Tensor4D,
        filter: tf.tensor4d(op.filter.values, op.filter.shape as [number, number, number, number]),
        strides: op.strides,
        pad: op.padding,
        dilations: op.dilations,
        bias: tf.tensor1d(op.bias),
        activation: fusedActivation(op.activation),
      };
      return op.kind === 'conv2d' ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args);
    }
    case 'pad':
      return tf.pad(inputs[0], [[0, 0], ...op.paddings, [0, 0]]);
    case 'add': {
      const sum = tf.add(inputs[0], inputs[1]);
      return op.activation === 'relu6' ? tf.relu6(sum) : op.activation === 'relu' ? tf.relu(sum) : sum;
    }
    case 'mean':
      return tf.mean(inputs[0], [1, 2]);
    case 'dense':
      return tf.fused.matMul({
        a: inputs[0] as tf.Tensor2D,
        b: tf.tensor2d(op.kernel.values, op.kernel.shape),
        bias: tf.tensor1d(op.bias),
        activation: fusedActivation(op.activation),
      });
    case 'softmax':
      return tf.softmax(inputs[0]);
  }
}

/**
 * The graph's output for a batch of inputs [n, h, w, c]; with `ranges`, widens each tensor's range by what this
 * batch gives (the input's too).
 */
export function runFolded(graph: FoldedGraph, input: tf.Tensor4D, ranges?: TensorRanges): tf.Tensor {
  return tf.tidy(() => {
    const values = new Map<number, tf.Tensor>([[graph.input, input]]);
    const observe = (index: number, tensor: tf.Tensor) => {
      if (!ranges) return;
      const [min, max] = [tf.min(tensor).dataSync()[0], tf.max(tensor).dataSync()[0]];
      const range = (ranges[index] ??= { min: Infinity, max: -Infinity });
      range.min = Math.min(range.min, min);
      range.max = Math.max(range.max, max);
    };
    observe(graph.input, input);
    for (const op of graph.ops) {
      const inputs = op.inputs.map((i) => {
        const value = values.get(i);
        if (!value) throw new Error(`op ${op.layers[0]} runs before its input ${graph.tensors[i].name} is made`);
        return value;
      });
      const output = applyOp(op, inputs);
      observe(op.output, output);
      values.set(op.output, output);
    }
    return values.get(graph.output)!;
  });
}
