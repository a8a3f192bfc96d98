/**
 * The real pretrained base for the Node tests (tfjs in Node itself is tools/measure/tf-node.ts, imported here so
 * its backends and gradients are registered):
 * - `await loadMobileNetV2(inputSize)` loads MobileNetV2-0.35 from ../shared at a smaller square input size
 *   (the network is fully convolutional), for fast tests;
 * - `await recipeFineTuneModel(...)` nests it in the recipe's fine-tuning model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '../../tools/measure/tf-node';

const mobileNetV2Dir = fileURLToPath(new URL('../../../shared/models/mobilenet_v2_0.35_224_no_top/', import.meta.url));

/**
 * The real MobileNetV2-0.35 base (no top, output 'out_relu'), built for [null, inputSize, inputSize, 3] inputs with
 * its pretrained weights, through loadLayersModel like the app does. Create it on the backend that will run it.
 */
export async function loadMobileNetV2(inputSize = 224): Promise<tfl.LayersModel> {
  const modelJson = JSON.parse(await readFile(join(mobileNetV2Dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  type Topology = { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  const topology = modelJson.modelTopology as Topology;
  const input = topology.config.layers.find((layer) => layer.class_name === 'InputLayer');
  if (input === undefined) throw new Error('MobileNetV2 model.json has no InputLayer');
  input.config.batch_input_shape = [null, inputSize, inputSize, 3];
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const shards = await Promise.all(modelJson.weightsManifest.flatMap((group) => group.paths)
    .map((path) => readFile(join(mobileNetV2Dir, path))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs, weightData }));
}

/**
 * The recipe's fine-tuning model around the real base: the base (layers from `fineTuneAt` on trainable) nested in
 * base + GlobalAveragePooling2D + Dense(classes, softmax), as Keras writes it. Returns the model and its base.
 */
export async function recipeFineTuneModel(options: {
  inputSize: number;
  fineTuneAt: string | number;
  classes: number;
  seed: number;
}): Promise<{ model: tfl.LayersModel; base: tfl.LayersModel }> {
  const base = await loadMobileNetV2(options.inputSize);
  const { fineTuneAt } = options;
  const first = typeof fineTuneAt === 'number' ? fineTuneAt : base.layers.findIndex((l) => l.name === fineTuneAt);
  if (first <= 0) throw new Error(`MobileNetV2 has no layer ${fineTuneAt} to fine-tune from`);
  base.layers.forEach((layer, i) => {
    layer.trainable = i >= first;
  });
  const input = tfl.input({ shape: [options.inputSize, options.inputSize, 3] });
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(base.apply(input)) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({
    units: options.classes,
    activation: 'softmax',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed }),
  });
  return { model: tfl.model({ inputs: input, outputs: dense.apply(pooled) as tfl.SymbolicTensor }), base };
}
