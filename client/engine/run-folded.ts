/**
 * Runs a folded graph (fold.ts) with tfjs ops: fused conv2d / depthwiseConv2d with bias and activation, pad, add,
 * mean, matMul, softmax. `CompiledGraph` holds the folded weights as tensors for repeated runs (the farm's compiled
 * base); `runFolded` runs a graph once and gives, for int8 calibration, every activation tensor's range.
 * Plain tfjs; no DOM, no storage.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedGraph, FoldedOp, FusedActivation } from './fold';

/** Smallest and largest value seen in each graph tensor (index into FoldedGraph.tensors). */
export type TensorRanges = { min: number; max: number }[];

function fusedActivation(activation: FusedActivation): 'linear' | 'relu' | 'relu6' {
  return activation === 'none' ? 'linear' : activation;
}

/** An op's weights as tensors: a conv's filter or a dense op's kernel, and its bias. */
interface OpWeights {
  weights: tf.Tensor;
  bias: tf.Tensor1D;
}

function weightsOf(op: FoldedOp): OpWeights | null {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise':
      return { weights: tf.tensor4d(op.filter.values, op.filter.shape as [number, number, number, number]), bias: tf.tensor1d(op.bias) };
    case 'dense':
      return { weights: tf.tensor2d(op.kernel.values, op.kernel.shape), bias: tf.tensor1d(op.bias) };
    default:
      return null;
  }
}

function applyOp(op: FoldedOp, inputs: tf.Tensor[], held: OpWeights | null): tf.Tensor {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise': {
      const args = {
        x: inputs[0] as tf.Tensor4D,
        filter: held!.weights as tf.Tensor4D,
        strides: op.strides,
        pad: op.padding,
        dilations: op.dilations,
        bias: held!.bias,
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
        b: held!.weights as tf.Tensor2D,
        bias: held!.bias,
        activation: fusedActivation(op.activation),
      });
    case 'softmax':
      return tf.softmax(inputs[0]);
  }
}

/** A folded graph ready to run many times: its weights are made into tensors once, on the active backend. */
export class CompiledGraph {
  private readonly held: (OpWeights | null)[];

  constructor(readonly graph: FoldedGraph) {
    this.held = graph.ops.map(weightsOf);
  }

  /**
   * The graph's outputs (FoldedGraph.outputs order) for a batch of inputs [n, h, w, c]; with `ranges`, widens each
   * tensor's range by what this batch gives (the input's too). The input is not disposed.
   */
  run(input: tf.Tensor4D, ranges?: TensorRanges): tf.Tensor[] {
    const { graph } = this;
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
      graph.ops.forEach((op, i) => {
        const inputs = op.inputs.map((index) => {
          const value = values.get(index);
          if (!value) throw new Error(`op ${op.layers[0]} runs before its input ${graph.tensors[index].name} is made`);
          return value;
        });
        const output = applyOp(op, inputs, this.held[i]);
        observe(op.output, output);
        values.set(op.output, output);
      });
      return graph.outputs.map((index) => values.get(index)!);
    });
  }

  dispose(): void {
    for (const held of this.held) if (held) tf.dispose([held.weights, held.bias]);
  }
}

/**
 * The output of a one-output graph for a batch of inputs [n, h, w, c]; with `ranges`, widens each tensor's range
 * by what this batch gives (the input's too).
 */
export function runFolded(graph: FoldedGraph, input: tf.Tensor4D, ranges?: TensorRanges): tf.Tensor {
  if (graph.outputs.length !== 1) throw new Error(`runFolded runs one-output graphs; this one has ${graph.outputs.length}`);
  const compiled = new CompiledGraph(graph);
  try {
    return compiled.run(input, ranges)[0];
  } finally {
    compiled.dispose();
  }
}
