/**
 * Folding a tfjs layers model into a FoldedGraph (fold.ts): its layers in execution order, each turned into an op,
 * folded into the op before it (BatchNormalization: w * gamma / sqrt(var + eps), (b - mean) * gamma /
 * sqrt(var + eps) + beta; ReLU/ReLU6 as that op's activation), or dropped (Dropout). Plain tfjs; no DOM, no storage.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { FoldError, type AddOp, type ConvOp, type DenseOp, type FoldedGraph, type PadOp } from './fold';
import { FoldedGraphBuilder } from './folded-graph-builder';
import { activationOf, configOf, normalisePadding, pair, reluOf, requireWeight, weight } from './layer-config';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

/** A layer call: the layer, the tensors it reads and the one it makes. */
interface LayerStep {
  layer: Layer;
  inputs: SymbolicTensor[];
  output: SymbolicTensor;
}

/**
 * Folds `model` (one image input [null, h, w, c], one or more outputs) into inference ops. Throws FoldError naming
 * the first layer it cannot express (nested models, standalone BatchNorm or activations, any other layer kind).
 * A model output is computed exactly as the layers model does: nothing after it folds into it.
 */
export function foldModel(model: tfl.LayersModel): FoldedGraph {
  const steps = walk(model);
  const graph = new FoldedGraphBuilder(readerCounts(steps, model.outputs));
  let input = -1;
  for (const step of steps) {
    if (step.layer.getClassName() === 'InputLayer') input = graph.addTensor(step.output, step.layer.name);
    else foldLayer(graph, step);
  }
  return graph.graph(input, model.outputs);
}

/** Layers of `model` from its input to its outputs in execution order, each with the tensors it reads. */
function walk(model: tfl.LayersModel): LayerStep[] {
  if (model.inputs.length !== 1) throw new Error('only models with one input fold');
  const order: LayerStep[] = [];
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

/** Symbolic tensor id -> how many layers read it, plus one for each model output it is. */
function readerCounts(steps: readonly LayerStep[], outputs: readonly SymbolicTensor[]): Map<number, number> {
  const readers = new Map<number, number>();
  for (const { inputs } of steps) for (const t of inputs) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  for (const t of outputs) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  return readers;
}

/** Adds one layer (not the input) to the graph: as an op, folded into the op before it, or passed through. */
function foldLayer(graph: FoldedGraphBuilder, { layer, inputs, output }: LayerStep): void {
  const className = layer.getClassName();
  const config = configOf(layer);
  const x = inputs[0];
  switch (className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      foldConv(graph, layer, config, x, output);
      break;
    case 'BatchNormalization': {
      const target = graph.foldTarget(x);
      if (!target || (target.kind !== 'conv2d' && target.kind !== 'depthwise' && target.kind !== 'dense') || target.activation !== 'none') {
        throw new FoldError(layer.name, className, 'BatchNormalization folds only into a conv or dense layer just before it (no activation between)');
      }
      const axis = config.axis as number | number[];
      if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) {
        throw new FoldError(layer.name, className, `only the channel axis folds, got axis ${JSON.stringify(axis)}`);
      }
      foldBatchNorm(target, layer, config.epsilon as number);
      graph.rebind(target, layer, output);
      break;
    }
    case 'ReLU':
      graph.fuseActivation(layer, x, output, reluOf(layer));
      break;
    case 'Activation': {
      const activation = activationOf(layer, config.activation);
      if (activation === 'softmax') graph.emit({ kind: 'softmax', inputs: [graph.inputIndex(x, layer)], layers: [layer.name] }, output, layer);
      else graph.fuseActivation(layer, x, output, activation);
      break;
    }
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = normalisePadding(config.padding);
      graph.emit({ kind: 'pad', inputs: [graph.inputIndex(x, layer)], layers: [layer.name], paddings: [[top, bottom], [left, right]] } as PadOp, output, layer);
      break;
    }
    case 'Add':
      if (inputs.length !== 2) throw new FoldError(layer.name, className, `adds of ${inputs.length} tensors are not supported (2 are)`);
      graph.emit({ kind: 'add', inputs: inputs.map((t) => graph.inputIndex(t, layer)), layers: [layer.name], activation: 'none' } as AddOp, output, layer);
      break;
    case 'GlobalAveragePooling2D':
      if ((config.data_format ?? 'channels_last') !== 'channels_last') throw new FoldError(layer.name, className, 'only channels_last is supported');
      if (config.keepdims === true) throw new FoldError(layer.name, className, 'keepdims is not supported');
      graph.emit({ kind: 'mean', inputs: [graph.inputIndex(x, layer)], layers: [layer.name] }, output, layer);
      break;
    case 'Dropout':
      // Inference: dropout is the identity.
      graph.passThrough(layer, x, output);
      break;
    case 'Dense':
      foldDense(graph, layer, config, x, output);
      break;
    default:
      throw new FoldError(
        layer.name,
        className,
        'this layer kind cannot be exported (supported: Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, ZeroPadding2D, Add, GlobalAveragePooling2D, Dropout, Dense)',
      );
  }
}

/** A Conv2D or DepthwiseConv2D as a conv op (a bias of zeros when it has none). */
function foldConv(graph: FoldedGraphBuilder, layer: Layer, config: Record<string, unknown>, x: SymbolicTensor, output: SymbolicTensor): void {
  const className = layer.getClassName();
  if ((config.data_format ?? 'channels_last') !== 'channels_last') throw new FoldError(layer.name, className, 'only channels_last is supported');
  const depthwise = className === 'DepthwiseConv2D';
  const filter = requireWeight(layer, depthwise ? 'depthwise_kernel' : 'kernel');
  const outChannels = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
  const activation = activationOf(layer, config.activation);
  if (activation === 'softmax') throw new FoldError(layer.name, className, 'a softmax conv is not supported');
  graph.emit(
    {
      kind: depthwise ? 'depthwise' : 'conv2d',
      inputs: [graph.inputIndex(x, layer)],
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
}

/** A Dense layer on flat features as a dense op, followed by a softmax op when its activation is softmax. */
function foldDense(graph: FoldedGraphBuilder, layer: Layer, config: Record<string, unknown>, x: SymbolicTensor, output: SymbolicTensor): void {
  if (x.shape.length !== 2) throw new FoldError(layer.name, 'Dense', `only dense layers on flat features fold, input shape ${JSON.stringify(x.shape)}`);
  const kernel = requireWeight(layer, 'kernel');
  const activation = activationOf(layer, config.activation);
  const dense = graph.emit(
    {
      kind: 'dense',
      inputs: [graph.inputIndex(x, layer)],
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
    graph.rename(dense.output, `${layer.name}/logits`);
    graph.emit({ kind: 'softmax', inputs: [dense.output], layers: [layer.name] }, output, layer);
  }
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
