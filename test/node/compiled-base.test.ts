/**
 * The farm's compiled base (client/farm/extractor.ts on client/engine/fold-model.ts + run-folded.ts): BatchNorm folded
 * into the convs and ReLU6 fused, the fine-tune cut tensors left as the layers model makes them. What a user relies
 * on: the features the farm caches (pooled bottleneck and cut activations) are the layers model's, within 1e-4 of
 * the feature scale, on real photos and real weights, on wasm and cpu; and loading and disposing it leaks no tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Extractor, type BaseRunner, type ExtractedImage, type ExtractorSpec } from '../../client/farm/extractor';
import { readModelArtifacts } from '../../tools/measure/model-artifacts';
import { FLOWERS_DIR, MOBILENET_V2_DIR, SHARED_DIR, listClassFolder, preprocessImages } from '../support/node-features';
import { useBackend, type TestBackend } from '../../tools/measure/tf-node';

const MOBILENET_V1_DIR = `${SHARED_DIR}models/mobilenet_v1_0.25_224`;
const SIZE = 224;

/** Largest difference relative to the largest magnitude of the reference (the feature scale). */
function relativeDifference(actual: Float32Array, reference: Float32Array): number {
  expect(actual.length).toBe(reference.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    diff = Math.max(diff, Math.abs(actual[i] - reference[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

let photos: { paths: string[]; ids: string[] };

beforeAll(async () => {
  // One photo of each of the 5 flower classes.
  const images = (await listClassFolder(FLOWERS_DIR, { perClass: 1 })).images;
  photos = { paths: images.map((i) => i.path), ids: images.map((i) => i.id) };
});

afterAll(() => useBackend('cpu'));

async function extract(modelDir: string, spec: ExtractorSpec, runner: BaseRunner): Promise<{ extractor: Extractor; features: ExtractedImage[] }> {
  const { artifacts } = await readModelArtifacts(modelDir);
  const extractor = await Extractor.load(artifacts, spec, runner);
  const input = await preprocessImages(photos.paths, photos.ids, SIZE);
  try {
    return { extractor, features: await extractor.run(input) };
  } finally {
    input.dispose();
    extractor.dispose();
  }
}

/** The compiled base's features against the layers model's, on the active backend: the largest relative difference. */
async function compare(modelDir: string, spec: ExtractorSpec) {
  const tensorsBefore = tf.memory().numTensors;
  const compiled = await extract(modelDir, spec, 'compiled');
  // Loading, running and disposing the compiled base leaves no tensor behind (the layers model's weights included).
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  const layers = await extract(modelDir, spec, 'layers');
  expect(compiled.extractor.cut).toEqual(layers.extractor.cut);
  expect(compiled.extractor.cutLayer).toBe(layers.extractor.cutLayer);
  expect(compiled.features).toHaveLength(photos.paths.length);
  const pooled = Math.max(...compiled.features.map((f, i) => relativeDifference(f.pooled, layers.features[i].pooled)));
  const cut = layers.extractor.cut.map((_, k) =>
    Math.max(...compiled.features.map((f, i) => relativeDifference(f.cut[k], layers.features[i].cut[k]))),
  );
  return { cutTensors: compiled.extractor.cut, pooled, cut };
}

describe.each<TestBackend>(['wasm', 'cpu'])('the compiled base on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('gives MobileNetV2-0.35 pooled features and the cut activations at fine_tune_at 100 of the layers model', async () => {
    const result = await compare(MOBILENET_V2_DIR, { bottleneck: 'out_relu', inputSize: SIZE, fineTuneAt: 100 });
    console.log(`${backend} MobileNetV2 compiled vs layers, relative: pooled ${result.pooled.toExponential(2)}, cut ${result.cut.map((d) => d.toExponential(2)).join(' ')}`);
    // block_11_expand's output is the unfolded conv (its BatchNorm, layer 100, trains in stage 2).
    expect(result.cutTensors).toEqual([
      { layer: 'block_10_project_BN', shape: [14, 14, 32] },
      { layer: 'block_11_expand', shape: [14, 14, 192] },
    ]);
    expect(result.pooled).toBeLessThan(1e-4);
    for (const diff of result.cut) expect(diff).toBeLessThan(1e-4);
  });

  it('gives MobileNetV1-0.25 pooled features at conv_pw_13_relu, head only and cut at a ReLU', async () => {
    const headOnly = await compare(MOBILENET_V1_DIR, { bottleneck: 'conv_pw_13_relu', inputSize: SIZE, fineTuneAt: null });
    expect(headOnly.cutTensors).toEqual([]);
    expect(headOnly.pooled).toBeLessThan(1e-4);
    // Cut between a BatchNorm and its ReLU6: the cut tensor is the folded conv's output before the activation.
    const atRelu = await compare(MOBILENET_V1_DIR, { bottleneck: 'conv_pw_13_relu', inputSize: SIZE, fineTuneAt: 'conv_pw_12_relu' });
    console.log(`${backend} MobileNetV1 compiled vs layers, relative: pooled ${headOnly.pooled.toExponential(2)} / ${atRelu.pooled.toExponential(2)}, cut ${atRelu.cut.map((d) => d.toExponential(2)).join(' ')}`);
    expect(atRelu.cutTensors).toEqual([{ layer: 'conv_pw_12_bn', shape: [7, 7, 256] }]);
    expect(atRelu.pooled).toBeLessThan(1e-4);
    for (const diff of atRelu.cut) expect(diff).toBeLessThan(1e-4);
  });
});
