/**
 * A tfjs layers model (the base up to the bottleneck, optionally with GlobalAveragePooling2D and the head) as a plain
 * list of inference ops with folded weights: each BatchNormalization folded into the conv before it
 * (w * gamma / sqrt(var + eps), (b - mean) * gamma / sqrt(var + eps) + beta), each ReLU/ReLU6 fused into the op
 * before it as its activation, Dropout removed. Every layer kind the list cannot express is a FoldError naming the
 * layer. What the TFLite writer writes, and what a compiled frozen base runs. Plain tfjs; no DOM, no storage.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

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

function configOf(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function pair(value: unknown, name: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [value[0] as number, value[1] as number];
  throw new Error(`expected ${name} as a number or two numbers, got ${JSON.stringify(value)}`);
}

/** The layer's weight named `suffix` (kernel, bias, gamma...), read out as float32. */
function weight(layer: Layer, suffix: string): { shape: number[]; values: Float32Array } | null {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.originalName === suffix);
  if (!w) return null;
  return { shape: w.shape as number[], values: w.read().dataSync() as Float32Array };
}

function requireWeight(layer: Layer, suffix: string) {
  const w = weight(layer, suffix);
  if (!w) throw new FoldError(layer.name, layer.getClassName(), `has no weight '${suffix}'`);
  return w;
}

/** The activation a layer config names, as a fusable one; 'softmax' only where the caller handles it. */
function activationOf(layer: Layer, name: unknown): FusedActivation | 'softmax' {
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
function reluOf(layer: Layer): FusedActivation {
  const config = configOf(layer);
  const slope = (config.negative_slope ?? config.negativeSlope ?? 0) as number;
  const threshold = (config.threshold ?? 0) as number;
  const max = (config.max_value ?? config.maxValue ?? null) as number | null;
  if (slope !== 0 || threshold !== 0 || (max !== null && max !== 6)) {
    throw new FoldError(layer.name, 'ReLU', `only ReLU and ReLU6 fold (max_value ${max}, negative_slope ${slope}, threshold ${threshold})`);
  }
  return max === 6 ? 'relu6' : 'relu';
}

/** Layers of `model` from its input to its outputs in execution order, each with the tensors it reads. */
function walk(model: tfl.LayersModel): { layer: Layer; inputs: SymbolicTensor[]; output: SymbolicTensor }[] {
  if (model.inputs.length !== 1) throw new Error('only models with one input fold');
  const order: { layer: Layer; inputs: SymbolicTensor[]; output: SymbolicTensor }[] = [];
  const visited = new Set<number>();
  const visit = (tensor: SymbolicTensor): void => {
    if (visited.has(tensor.id)) return;
    visited.add(tensor.id);
    const layer = tensor.sourceLayer as Layer;
    // A layer applied several times (the head: once in its own model, once on the base) has a node per call.
    const node = layer.inboundNodes[tensor.nodeIndex];
    const inputs = node.inputTensors as SymbolicTensor[];
    if (layer.getClassName() !== 'InputLayer') inputs.forEach(visit);
    if ((node.outputTensors as SymbolicTensor[]).length !== 1) {
      throw new FoldError(layer.name, layer.getClassName(), 'layers with several outputs are not supported');
    }
    order.push({ layer, inputs: layer.getClassName() === 'InputLayer' ? [] : inputs, output: tensor });
  };
  model.outputs.forEach(visit);
  return order;
}

/**
 * Folds `model` (one image input [null, h, w, c], one or more outputs) into inference ops. Throws FoldError naming
 * the first layer it cannot express (nested models, standalone BatchNorm or activations, any other layer kind).
 * A model output is computed exactly as the layers model does: nothing after it folds into it.
 */
export function foldModel(model: tfl.LayersModel): FoldedGraph {
  const tensors: GraphTensor[] = [];
  const ops: FoldedOp[] = [];
  /** Symbolic tensor id -> graph tensor index. */
  const indexOf = new Map<number, number>();
  /** Graph tensor index -> the op that makes it. */
  const producer = new Map<number, FoldedOp>();
  const readers = new Map<number, number>();
  for (const { inputs } of walk(model)) for (const t of inputs) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  for (const t of model.outputs) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);

  const addTensor = (symbolic: SymbolicTensor, name: string): number => {
    const shape = symbolic.shape.map((d, i) => (i === 0 ? 1 : d));
    if (shape.some((d) => d === null)) throw new Error(`the output of '${name}' has an undefined size: ${JSON.stringify(symbolic.shape)}`);
    tensors.push({ name, shape: shape as number[] });
    indexOf.set(symbolic.id, tensors.length - 1);
    return tensors.length - 1;
  };
  const inputIndex = (t: SymbolicTensor, layer: Layer): number => {
    const index = indexOf.get(t.id);
    if (index === undefined) throw new FoldError(layer.name, layer.getClassName(), 'reads a tensor the graph does not have');
    return index;
  };
  const emit = (op: Omit<FoldedOp, 'output'> & { kind: FoldedOp['kind'] }, output: SymbolicTensor, layer: Layer): void => {
    const full = { ...op, output: addTensor(output, layer.name) } as FoldedOp;
    ops.push(full);
    producer.set(full.output, full);
  };
  /**
   * The op a BatchNorm or activation reading `input` folds into: its producer when this layer is the only reader
   * of `input`. When the unfolded tensor is needed too (a model output such as a fine-tune cut tensor, or another
   * layer's input), a copy of a conv, dense or add producer computes the folded tensor beside it. Else null.
   */
  const foldTarget = (input: SymbolicTensor): FoldedOp | null => {
    const index = indexOf.get(input.id);
    const op = index === undefined ? undefined : producer.get(index);
    if (!op) return null;
    if (readers.get(input.id) === 1) return op;
    if (op.kind !== 'conv2d' && op.kind !== 'depthwise' && op.kind !== 'dense' && op.kind !== 'add') return null;
    tensors.push({ ...tensors[op.output] });
    const copy = { ...op, layers: [...op.layers], output: tensors.length - 1 };
    ops.push(copy);
    producer.set(copy.output, copy);
    return copy;
  };
  /** Makes `layer`'s output the folded op's output (same shape), renamed after the layer. */
  const rebind = (op: FoldedOp, layer: Layer, output: SymbolicTensor): void => {
    tensors[op.output] = { ...tensors[op.output], name: layer.name };
    indexOf.set(output.id, op.output);
    op.layers.push(layer.name);
  };
  const fuseActivation = (layer: Layer, input: SymbolicTensor, output: SymbolicTensor, activation: FusedActivation): void => {
    const target = foldTarget(input);
    if (activation === 'none') {
      indexOf.set(output.id, inputIndex(input, layer));
      return;
    }
    if (!target || !('activation' in target) || target.activation !== 'none') {
      throw new FoldError(layer.name, layer.getClassName(), 'an activation must directly follow a conv, dense or add whose only reader it is');
    }
    target.activation = activation;
    rebind(target, layer, output);
  };

  let input = -1;
  for (const { layer, inputs, output } of walk(model)) {
    const className = layer.getClassName();
    const config = configOf(layer);
    const x = inputs[0];
    switch (className) {
      case 'InputLayer':
        input = addTensor(output, layer.name);
        break;
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if ((config.data_format ?? 'channels_last') !== 'channels_last') throw new FoldError(layer.name, className, 'only channels_last is supported');
        const depthwise = className === 'DepthwiseConv2D';
        const filter = requireWeight(layer, depthwise ? 'depthwise_kernel' : 'kernel');
        const outChannels = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
        const activation = activationOf(layer, config.activation);
        if (activation === 'softmax') throw new FoldError(layer.name, className, 'a softmax conv is not supported');
        emit(
          {
            kind: depthwise ? 'depthwise' : 'conv2d',
            inputs: [inputIndex(x, layer)],
            layers: [layer.name],
            filter,
            bias: weight(layer, 'bias')?.values ?? new Float32Array(outChannels),
            strides: pair(config.strides, 'strides'),
            dilations: pair(config.dilation_rate ?? 1, 'dilation_rate'),
            padding: config.padding === 'same' ? 'same' : 'valid',
            activation,
          } as ConvOp,
          output,
          layer,
        );
        break;
      }
      case 'BatchNormalization': {
        const target = foldTarget(x);
        if (!target || (target.kind !== 'conv2d' && target.kind !== 'depthwise' && target.kind !== 'dense') || target.activation !== 'none') {
          throw new FoldError(layer.name, className, 'BatchNormalization folds only into a conv or dense layer just before it (no activation between)');
        }
        const axis = config.axis as number | number[];
        if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) {
          throw new FoldError(layer.name, className, `only the channel axis folds, got axis ${JSON.stringify(axis)}`);
        }
        foldBatchNorm(target, layer, config.epsilon as number);
        rebind(target, layer, output);
        break;
      }
      case 'ReLU':
        fuseActivation(layer, x, output, reluOf(layer));
        break;
      case 'Activation': {
        const activation = activationOf(layer, config.activation);
        if (activation === 'softmax') emit({ kind: 'softmax', inputs: [inputIndex(x, layer)], layers: [layer.name] }, output, layer);
        else fuseActivation(layer, x, output, activation);
        break;
      }
      case 'ZeroPadding2D': {
        const [[top, bottom], [left, right]] = normalisePadding(config.padding);
        emit({ kind: 'pad', inputs: [inputIndex(x, layer)], layers: [layer.name], paddings: [[top, bottom], [left, right]] } as PadOp, output, layer);
        break;
      }
      case 'Add':
        if (inputs.length !== 2) throw new FoldError(layer.name, className, `adds of ${inputs.length} tensors are not supported (2 are)`);
        emit({ kind: 'add', inputs: inputs.map((t) => inputIndex(t, layer)), layers: [layer.name], activation: 'none' } as AddOp, output, layer);
        break;
      case 'GlobalAveragePooling2D':
        if ((config.data_format ?? 'channels_last') !== 'channels_last') throw new FoldError(layer.name, className, 'only channels_last is supported');
        if (config.keepdims === true) throw new FoldError(layer.name, className, 'keepdims is not supported');
        emit({ kind: 'mean', inputs: [inputIndex(x, layer)], layers: [layer.name] }, output, layer);
        break;
      case 'Dropout':
        // Inference: dropout is the identity.
        indexOf.set(output.id, inputIndex(x, layer));
        break;
      case 'Dense': {
        if (x.shape.length !== 2) throw new FoldError(layer.name, className, `only dense layers on flat features fold, input shape ${JSON.stringify(x.shape)}`);
        const kernel = requireWeight(layer, 'kernel');
        const activation = activationOf(layer, config.activation);
        emit(
          {
            kind: 'dense',
            inputs: [inputIndex(x, layer)],
            layers: [layer.name],
            kernel: kernel as DenseOp['kernel'],
            bias: weight(layer, 'bias')?.values ?? new Float32Array(kernel.shape[1]),
            activation: activation === 'softmax' ? 'none' : activation,
          } as DenseOp,
          output,
          layer,
        );
        if (activation === 'softmax') {
          // The dense op's output is the logits; the layer's output is the softmax of them.
          const dense = ops[ops.length - 1];
          tensors[dense.output] = { ...tensors[dense.output], name: `${layer.name}/logits` };
          const softmax: SoftmaxOp = { kind: 'softmax', inputs: [dense.output], output: -1, layers: [layer.name] };
          softmax.output = addTensor(output, layer.name);
          ops.push(softmax);
          producer.set(softmax.output, softmax);
        }
        break;
      }
      default:
        throw new FoldError(
          layer.name,
          className,
          'this layer kind cannot be exported (supported: Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, ZeroPadding2D, Add, GlobalAveragePooling2D, Dropout, Dense)',
        );
    }
  }
  const outputs = model.outputs.map((t) => indexOf.get(t.id));
  if (input < 0 || outputs.some((o) => o === undefined)) throw new Error('the model has no input or output the graph reaches');
  return { tensors, input, output: outputs[0]!, outputs: outputs as number[], ops };
}

function normalisePadding(padding: unknown): [[number, number], [number, number]] {
  if (typeof padding === 'number') return [[padding, padding], [padding, padding]];
  if (Array.isArray(padding) && padding.length === 2) {
    const [h, w] = padding as (number | number[])[];
    return [typeof h === 'number' ? [h, h] : [h[0], h[1]], typeof w === 'number' ? [w, w] : [w[0], w[1]]];
  }
  throw new Error(`unexpected ZeroPadding2D padding ${JSON.stringify(padding)}`);
}

/** Folds an inference-mode BatchNormalization into the op before it: per output channel, w * f and (b - mean) * f + beta. */
function foldBatchNorm(op: ConvOp | DenseOp, layer: Layer, epsilon: number): void {
  const mean = requireWeight(layer, 'moving_mean').values;
  const variance = requireWeight(layer, 'moving_variance').values;
  const gamma = weight(layer, 'gamma')?.values;
  const beta = weight(layer, 'beta')?.values;
  const channels = mean.length;
  const factor = new Float32Array(channels);
  for (let c = 0; c < channels; c++) factor[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
  const values = op.kind === 'dense' ? op.kernel.values : op.filter.values;
  // In every layout the output channel is the fastest-moving index (depthwise: in * multiplier).
  if (values.length % channels !== 0 || op.bias.length !== channels) {
    throw new FoldError(layer.name, 'BatchNormalization', `has ${channels} channels, the layer before it ${op.bias.length}`);
  }
  const folded = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) folded[i] = values[i] * factor[i % channels];
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) bias[c] = (op.bias[c] - mean[c]) * factor[c] + (beta ? beta[c] : 0);
  if (op.kind === 'dense') op.kernel = { ...op.kernel, values: folded };
  else op.filter = { ...op.filter, values: folded };
  op.bias = bias;
}
