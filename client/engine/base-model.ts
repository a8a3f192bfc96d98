/**
 * The pretrained base (e.g. MobileNetV2 without top) as the trainer and the farm use it: loaded from in-memory
 * artifacts (optionally at another square input size), truncated at the bottleneck, and split at fine_tune_at
 * into a frozen part (image -> cut tensors, what the farm runs once to fill the cut cache) and a trainable part
 * (cut tensors -> bottleneck, what stage 2 trains). Both parts share the base's layer objects, so weights trained
 * in the trainable part are the base's weights. Imports only tfjs; no DOM, no storage.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { CutTensor, ModelSummary } from '../../shared/trainer-messages';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

export interface FineTuneSplit {
  /** Index of the first trainable layer in the base's layers (Keras `fine_tune_at`). */
  fineTuneAt: number;
  /** Name of that layer. */
  fineTuneAtName: string;
  /** Cut tensors in layer order: the frozen part's outputs and the trainable part's inputs, in that order. */
  cut: CutTensor[];
  /** Base input -> cut tensors. */
  frozen: tfl.LayersModel;
  /** Cut tensors -> bottleneck, built from the base's own layer objects (shared weights). */
  trainable: tfl.LayersModel;
  /** Layers at or after fine_tune_at: the only base layers stage 2 updates. */
  trainableLayers: Layer[];
}

interface TopologyLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** The layer list of a layers-model topology, both tfjs's layout and Keras 2.1's `model_config` one. */
function topologyLayers(topology: Record<string, unknown>): TopologyLayer[] {
  const model = (topology.model_config ?? topology) as { config?: { layers?: TopologyLayer[] } };
  const layers = model.config?.layers;
  if (!Array.isArray(layers)) throw new Error('model topology has no config.layers: not a layers model');
  return layers;
}

/** A copy of the artifacts whose InputLayer takes [size, size, channels] images. */
export function withInputSize(artifacts: tf.io.ModelArtifacts, size: number): tf.io.ModelArtifacts {
  if (!Number.isInteger(size) || size < 16) throw new Error(`input size must be an integer >= 16, got ${size}`);
  if (artifacts.modelTopology == null || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error('model artifacts have no JSON topology: not a layers model');
  }
  const topology = structuredClone(artifacts.modelTopology) as Record<string, unknown>;
  const inputs = topologyLayers(topology).filter((layer) => layer.class_name === 'InputLayer');
  if (inputs.length !== 1) throw new Error(`expected one InputLayer in the base, found ${inputs.length}`);
  const config = inputs[0].config;
  // Keras 2 writes batch_input_shape, Keras 3 batch_shape.
  const key = 'batch_input_shape' in config ? 'batch_input_shape' : 'batch_shape';
  const shape = config[key];
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new Error(`InputLayer ${key} must be [batch, height, width, channels], got ${JSON.stringify(shape)}`);
  }
  config[key] = [null, size, size, shape[3]];
  return { ...artifacts, modelTopology: topology };
}

/**
 * Loads the base from artifacts (model.json's topology + weights as the farm downloaded them) and truncates it
 * at the bottleneck layer. `inputSize` rewrites the input layer first (MobileNets are fully convolutional).
 */
export async function loadBaseModel(
  artifacts: tf.io.ModelArtifacts,
  options: { bottleneck: string; inputSize?: number },
): Promise<tfl.LayersModel> {
  const sized = options.inputSize === undefined ? artifacts : withInputSize(artifacts, options.inputSize);
  const full = await tfl.loadLayersModel(tf.io.fromMemory(sized));
  let bottleneck: Layer;
  try {
    bottleneck = full.getLayer(options.bottleneck);
  } catch {
    full.dispose();
    throw new Error(`the base has no layer named '${options.bottleneck}' (its bottleneck)`);
  }
  if (bottleneck === full.layers[full.layers.length - 1]) return full;
  const truncated = tfl.model({ inputs: full.inputs, outputs: bottleneck.output as SymbolicTensor, name: full.name });
  // Layers past the bottleneck (a classifier top) are never used: free their weights now.
  const kept = new Set(truncated.layers);
  for (const layer of full.layers) if (!kept.has(layer)) layer.weights.forEach((w) => w.dispose());
  return truncated;
}

/** fine_tune_at as an index into the base's layers; names are resolved, out-of-range values rejected. */
export function resolveFineTuneAt(base: tfl.LayersModel, fineTuneAt: number | string): number {
  const count = base.layers.length;
  const index = typeof fineTuneAt === 'string' ? base.layers.findIndex((l) => l.name === fineTuneAt) : fineTuneAt;
  if (typeof fineTuneAt === 'string' && index < 0) {
    throw new Error(`fine_tune_at: the base has no layer named '${fineTuneAt}'`);
  }
  // Index 0 is the input layer; at 1 nothing would stay frozen and there would be nothing to cache.
  if (!Number.isInteger(index) || index < 2 || index >= count) {
    throw new Error(`fine_tune_at must be a layer index in 2..${count - 1} or a layer name, got ${fineTuneAt}`);
  }
  return index;
}

/** The node through which `layer` belongs to the base (layers are applied once in a loaded base). */
function baseNode(layer: Layer) {
  const node = layer.inboundNodes[0];
  if (node === undefined) throw new Error(`layer '${layer.name}' is not connected`);
  return node;
}

function perImageShape(tensor: SymbolicTensor): number[] {
  const shape = tensor.shape.slice(1);
  if (shape.some((d) => d === null)) throw new Error(`the output of '${tensor.sourceLayer.name}' has an undefined size: ${JSON.stringify(tensor.shape)}`);
  return shape as number[];
}

/**
 * Splits the base at fine_tune_at. The cut is every tensor made by a layer before fine_tune_at and read by a
 * layer at or after it (for MobileNetV2 at 100: block_11_expand's output and block_10_project_BN's, which the
 * residual add block_11_add reads).
 */
export function splitAtFineTune(base: tfl.LayersModel, fineTuneAt: number | string): FineTuneSplit {
  const at = resolveFineTuneAt(base, fineTuneAt);
  const layers = base.layers;
  const trainableLayers = layers.slice(at);

  const cutTensors = cutTensorsOf(base, at);
  const cut = cutTensors.map((t) => ({ layer: t.sourceLayer.name, shape: perImageShape(t) }));

  const frozen = tfl.model({ inputs: base.inputs, outputs: cutTensors, name: `${base.name}_frozen_${at}` });

  // Re-apply the same layer objects to fresh inputs in the base's (topological) layer order.
  const replaced = new Map<number, SymbolicTensor>();
  const inputs = cutTensors.map((t, i) => {
    const input = tfl.input({ shape: cut[i].shape, name: `cut_${cut[i].layer}` });
    replaced.set(t.id, input);
    return input;
  });
  for (const layer of trainableLayers) {
    const node = baseNode(layer);
    const args = node.inputTensors.map((t) => {
      const mapped = replaced.get(t.id);
      if (mapped === undefined) throw new Error(`layer '${layer.name}' reads a tensor outside the trainable part`);
      return mapped;
    });
    const output = layer.apply(args.length === 1 ? args[0] : args, node.callArgs ?? {});
    const outputs = Array.isArray(output) ? output : [output];
    node.outputTensors.forEach((t, i) => replaced.set(t.id, outputs[i] as SymbolicTensor));
  }
  const bottleneck = replaced.get(base.outputs[0].id);
  if (bottleneck === undefined) throw new Error('the trainable part does not reach the bottleneck');
  const trainable = tfl.model({ inputs, outputs: bottleneck, name: `${base.name}_trainable_${at}` });

  return { fineTuneAt: at, fineTuneAtName: layers[at].name, cut, frozen, trainable, trainableLayers };
}

/** Marks the base for stage 1 (all frozen) or stage 2 (layers from fine_tune_at on trainable). */
export function setBaseTrainable(base: tfl.LayersModel, fineTuneAt: number | null): void {
  base.layers.forEach((layer, i) => {
    layer.trainable = fineTuneAt !== null && i >= fineTuneAt;
  });
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Layer table and parameter counts for the page; `headParams` is the head's parameter count. */
export function summariseBase(base: tfl.LayersModel, fineTuneAt: number | string, headParams: number): ModelSummary {
  const at = resolveFineTuneAt(base, fineTuneAt);
  const layers = base.layers.map((layer, index) => ({
    index,
    name: layer.name,
    className: layer.getClassName(),
    outputShape: perImageShape(baseNode(layer).outputTensors[0]),
    params: layer.countParams(),
  }));
  const total = layers.reduce((sum, l) => sum + l.params, 0);
  // As Keras counts: BN moving mean/variance are never trainable weights.
  const unfrozen = base.layers
    .slice(at)
    .flatMap((layer) => layer.weights.filter((w) => !/moving_(mean|variance)$/.test(w.originalName)))
    .reduce((sum, w) => sum + sizeOf(w.shape as number[]), 0);
  const inputShape = base.inputs[0].shape;
  const cut = cutTensorsOf(base, at).map((t) => ({ layer: t.sourceLayer.name, shape: perImageShape(t) }));
  return {
    name: base.name,
    inputSize: inputShape[1] ?? 0,
    bottleneck: base.layers[base.layers.length - 1].name,
    layers,
    fineTuneAt: at,
    fineTuneAtName: base.layers[at].name,
    cut,
    beforeUnfreezing: { trainable: headParams, frozen: total },
    afterUnfreezing: { trainable: headParams + unfrozen, frozen: total - unfrozen },
  };
}

/** Tensors made before layer `at` and read from `at` on, in the order of the layers that make them. */
function cutTensorsOf(base: tfl.LayersModel, at: number): SymbolicTensor[] {
  const frozenIds = new Set(base.layers.slice(0, at).map((l) => l.id));
  const found = new Map<number, SymbolicTensor>();
  for (const layer of base.layers.slice(at)) {
    const node = baseNode(layer);
    node.inputTensors.forEach((t, i) => {
      if (frozenIds.has(node.inboundLayers[i].id)) found.set(t.id, t);
    });
  }
  const index = new Map(base.layers.map((l, i) => [l.id, i]));
  const producer = (t: SymbolicTensor) => index.get(t.sourceLayer.id) ?? -1;
  return [...found.values()].sort((a, b) => producer(a) - producer(b));
}
