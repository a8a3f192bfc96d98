/**
 * The folded graph: a tfjs layers model (the base up to the bottleneck, optionally with GlobalAveragePooling2D and
 * the head) as a plain list of inference ops with folded weights, each BatchNormalization folded into the conv
 * before it, each ReLU/ReLU6 fused into the op before it as its activation, Dropout removed. foldModel()
 * (fold-model.ts) makes one; the TFLite writer writes it, and a compiled frozen base runs it (run-folded.ts).
 * Every layer kind the list cannot express is a FoldError naming the layer. Types and the error only.
 */
export type FusedActivation = 'none' | 'relu' | 'relu6';

/** An activation tensor of the graph (weights are held by the ops). */
export interface GraphTensor {
  /** Name of the layer that produced it (after folding: the last layer folded into its op). */
  name: string;
  /** Shape with the batch dimension, e.g. [1, 112, 112, 16]. */
  shape: number[];
}

interface OpBase {
  /** Index into FoldedGraph.tensors. */
  inputs: number[];
  output: number;
  /** The layers this op stands for, first to last. */
  layers: string[];
}

export interface ConvOp extends OpBase {
  kind: 'conv2d' | 'depthwise';
  /** tfjs layout: conv2d [h, w, in, out]; depthwise [h, w, in, multiplier]. */
  filter: { shape: number[]; values: Float32Array };
  /** One per output channel (always present: folding BatchNorm makes one). */
  bias: Float32Array;
  strides: [number, number];
  dilations: [number, number];
  padding: 'same' | 'valid';
  activation: FusedActivation;
}

export interface PadOp extends OpBase {
  kind: 'pad';
  /** [[top, bottom], [left, right]]. */
  paddings: [[number, number], [number, number]];
}

export interface AddOp extends OpBase {
  kind: 'add';
  activation: FusedActivation;
}

/** GlobalAveragePooling2D: the mean over height and width. */
export interface MeanOp extends OpBase {
  kind: 'mean';
}

export interface DenseOp extends OpBase {
  kind: 'dense';
  /** tfjs layout [in, out]. */
  kernel: { shape: [number, number]; values: Float32Array };
  bias: Float32Array;
  activation: FusedActivation;
}

export interface SoftmaxOp extends OpBase {
  kind: 'softmax';
}

export type FoldedOp = ConvOp | PadOp | AddOp | MeanOp | DenseOp | SoftmaxOp;

export interface FoldedGraph {
  tensors: GraphTensor[];
  /** The model's input tensor (index into tensors). */
  input: number;
  /** The model's first output (for a one-output model, its only one). */
  output: number;
  /** Every model output, in the model's order (e.g. the fine-tune cut tensors, then the bottleneck). */
  outputs: number[];
  /** In execution order. */
  ops: FoldedOp[];
}

/** A layer the folded graph cannot express; nothing is written. */
export class FoldError extends Error {
  constructor(
    readonly layer: string,
    readonly className: string,
    reason: string,
  ) {
    super(`layer '${layer}' (${className}): ${reason}`);
    this.name = 'FoldError';
  }
}
