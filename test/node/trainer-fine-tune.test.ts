/**
 * Stage 2 on real data, on the wasm backend: MobileNetV2-0.35 at 160 px (to keep the test fast; the network is
 * fully convolutional), 100 flowers per class, split 60/40 so that validation can tell a point of accuracy.
 * The head trains on pooled features, then the layers from fine_tune_at=100 on train with it from the cached cut
 * activations (the frozen layers never run). What a user notices: the split of the base is right, fine-tuning does
 * not make the classifier worse, BatchNorm statistics are untouched, memory does not grow, and a run stopped during
 * fine-tuning resumes to the same place.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainSettings } from '../../shared/training';
import { loadBaseModel, resolveFineTuneAt, splitAtFineTune, summariseBase, withInputSize } from '../../client/engine/base-model';
import type { TrainingState } from '../../shared/training';
import { evaluate, predictSource } from '../../client/trainer/evaluate';
import { artifactsFromFiles, buildClassifier, exportLayersModel } from '../../client/trainer/export';
import { releaseModels } from '../../client/engine/release';
import { DEFAULT_SETTINGS, defaultFineTuneAt } from '../../client/trainer/settings';
import { bytesNeeded } from '../../client/page/storage-plan';
import { resumeTraining, train, type TrainResult } from '../../client/trainer/train';
import { readModelArtifacts } from '../../tools/measure/model-artifacts';
import { MOBILENET_PREPROCESSING, MOBILENET_V2_DIR, SHARED_DIR, preprocessImages } from '../support/node-features';
import { loadFlowersBase, sourcesOf, trainJobOf, wasmFlowersFixture, type FlowersFixture } from '../support/trainer-fixtures';

const SIZE = 160;
const SETTINGS: TrainSettings = {
  ...DEFAULT_SETTINGS,
  split: { validation: 0.4, test: 0 },
  fineTuneEpochs: 5,
};
const H = SETTINGS.headEpochs;

let fixture: FlowersFixture;

beforeAll(async () => {
  fixture = await wasmFlowersFixture({ perClass: 100, inputSize: SIZE, views: SETTINGS.augmentViews, fineTuneAt: SETTINGS.fineTuneAt });
});

function batchNormStatistics(model: tfl.LayersModel): Map<string, Float32Array> {
  const stats = new Map<string, Float32Array>();
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      if (/moving_(mean|variance)$/.test(w.originalName)) stats.set(w.originalName, w.read().dataSync() as Float32Array);
    }
  }
  return stats;
}

function weightOf(model: tfl.LayersModel, name: string): Float32Array {
  const weight = model.layers.flatMap((l) => l.weights).find((w) => w.originalName === name);
  if (!weight) throw new Error(`no weight ${name}`);
  return weight.read().dataSync() as Float32Array;
}

describe('the base split at fine_tune_at', () => {
  it('cuts MobileNetV2 at 100 after block_11_expand and block_10_project_BN, and the two parts compute the base', async () => {
    const base = await loadFlowersBase(SIZE);
    expect(resolveFineTuneAt(base, 'block_11_expand_BN')).toBe(100);
    const split = splitAtFineTune(base, 100);
    expect(split.fineTuneAtName).toBe('block_11_expand_BN');
    expect(split.cut).toEqual([
      { layer: 'block_10_project_BN', shape: [10, 10, 32] },
      { layer: 'block_11_expand', shape: [10, 10, 192] },
    ]);
    // The trainable part reuses the base's layers, so training it trains the base.
    expect(split.trainableLayers.map((l) => l.name)).toEqual(base.layers.slice(100).map((l) => l.name));
    expect(split.trainable.getLayer('block_16_project').weights[0]).toBe(base.getLayer('block_16_project').weights[0]);

    const byId = new Map(fixture.folder.images.map((i) => [i.id, i.path]));
    const ids = fixture.folder.images.slice(0, 4).map((i) => i.id);
    const input = await preprocessImages(ids.map((id) => byId.get(id)!), ids, SIZE);
    const [direct, viaCut] = tf.tidy(() => [
      base.predict(input) as tf.Tensor,
      split.trainable.predict(split.frozen.predict(input) as tf.Tensor[]) as tf.Tensor,
    ]);
    expect(direct.shape).toEqual([4, 5, 5, 1280]);
    expect(tf.max(tf.abs(tf.sub(direct, viaCut))).dataSync()[0]).toBe(0);
    tf.dispose([input, direct, viaCut]);

    const summary = summariseBase(base, 100, 6405);
    expect(summary.layers).toHaveLength(155);
    expect(summary.cut).toEqual(split.cut);
    expect(summary.beforeUnfreezing).toEqual({ trainable: 6405, frozen: 410208 });
    expect(summary.afterUnfreezing.trainable + summary.afterUnfreezing.frozen).toBe(6405 + 410208);
    expect(summary.afterUnfreezing.trainable).toBeGreaterThan(300_000);
    releaseModels(base);
  });

  it('defaults to 100 on MobileNetV2 and to the same share of another base’s layers, where that base splits too', async () => {
    const v2 = await loadFlowersBase(SIZE);
    expect(defaultFineTuneAt(v2.layers.length)).toBe(DEFAULT_SETTINGS.fineTuneAt);
    releaseModels(v2);
    const { artifacts } = await readModelArtifacts(`${SHARED_DIR}models/mobilenet_v1_0.25_224`);
    const v1 = await loadBaseModel(artifacts, { bottleneck: 'conv_pw_13_relu', inputSize: SIZE });
    const at = defaultFineTuneAt(v1.layers.length);
    // 82 layers: 53 of them, like 100 of V2's 155, stay frozen; it starts at a block's batch norm as V2's does.
    expect([v1.layers.length, at]).toEqual([82, 53]);
    const split = splitAtFineTune(v1, at);
    expect(split.fineTuneAtName).toBe('conv_dw_9_bn');
    expect(split.cut).toEqual([{ layer: 'conv_dw_9', shape: [10, 10, 128] }]);
    releaseModels(v1);
    // Inside 2..count-1 for any base deep enough to fine-tune.
    for (const count of [3, 4, 10, 155, 400]) {
      expect(defaultFineTuneAt(count)).toBeGreaterThanOrEqual(2);
      expect(defaultFineTuneAt(count)).toBeLessThan(count);
    }
  });

  it('loads a Keras 2.1 topology (model_config) at another input size, and names what is wrong', async () => {
    const { artifacts } = await readModelArtifacts(MOBILENET_V2_DIR);
    const keras21 = { ...artifacts, modelTopology: { keras_version: '2.1.6', backend: 'tensorflow', model_config: artifacts.modelTopology } };
    const resized = withInputSize(keras21, 96);
    const base = await loadBaseModel(resized, { bottleneck: 'out_relu' });
    expect(base.inputs[0].shape).toEqual([null, 96, 96, 3]);
    expect(base.outputs[0].shape).toEqual([null, 3, 3, 1280]);
    expect(() => resolveFineTuneAt(base, 'no_such_layer')).toThrow(/no layer named 'no_such_layer'/);
    expect(() => resolveFineTuneAt(base, 155)).toThrow(/2\.\.154/);
    releaseModels(base);
    // Truncated below the top: only the kept layers' weights stay allocated.
    const tensorsBefore = tf.memory().numTensors;
    const truncated = await loadBaseModel(artifacts, { bottleneck: 'block_16_project_BN', inputSize: 96 });
    expect(truncated.outputs[0].shape).toEqual([null, 3, 3, 112]);
    expect(tf.memory().numTensors - tensorsBefore).toBe(truncated.weights.length);
    releaseModels(truncated);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await expect(loadBaseModel(artifacts, { bottleneck: 'out_relu_typo' })).rejects.toThrow(/no layer named 'out_relu_typo'/);
  });
});

describe('fine-tuning on wasm from cached cut activations', () => {
  let base: tfl.LayersModel;
  let before: { stats: Map<string, Float32Array>; frozen: Float32Array; unfrozen: Float32Array };
  let result: TrainResult;
  const checkpoints: TrainingState[] = [];
  const tensorsAfter = new Map<number, number>();
  let job: Parameters<typeof train>[0];

  beforeAll(async () => {
    base = await loadFlowersBase(SIZE);
    before = {
      stats: batchNormStatistics(base),
      frozen: weightOf(base, 'block_10_project/kernel'),
      unfrozen: weightOf(base, 'block_16_project/kernel'),
    };
    job = trainJobOf(fixture, SETTINGS, base);
    result = await train(job, {
      onEpoch: (record) => void tensorsAfter.set(record.epoch, tf.memory().numTensors),
      onCheckpoint: (c) => void checkpoints.push(c),
    });
  });

  it('runs on wasm and keeps or improves validation accuracy, epochs numbered on from the head stage', () => {
    expect(tf.getBackend()).toBe('wasm');
    const { epochs, fineTuneStartEpoch } = result.history;
    const seconds = (stage: string) => {
      const picked = epochs.filter((e) => e.stage === stage).slice(1);
      return (picked.reduce((s, e) => s + e.seconds, 0) / picked.length).toFixed(2);
    };
    console.info(
      `fine-tune @${SIZE}: val accuracy ${epochs.map((e) => `${e.epoch}:${e.valAccuracy.toFixed(3)}`).join(' ')}; ` +
        `s/epoch head ${seconds('head')} fine-tune ${seconds('fine-tune')} (${job.split.train.length} train, ${job.split.validation.length} val)`,
    );
    expect(fineTuneStartEpoch).toBe(H);
    expect(epochs.map((e) => [e.epoch, e.stage])).toEqual([
      ...Array.from({ length: H }, (_, i) => [i, 'head']),
      ...Array.from({ length: SETTINGS.fineTuneEpochs }, (_, i) => [H + i, 'fine-tune']),
    ]);
    // The classifier a user gets is the kept epoch's: no worse than the head, and some fine-tuning epoch is better.
    const headAccuracy = epochs[H - 1].valAccuracy;
    const kept = epochs.find((e) => e.epoch === result.history.kept!['fine-tune'])!;
    expect(kept.valAccuracy).toBeGreaterThan(headAccuracy - 0.01);
    expect(Math.max(...epochs.slice(H).map((e) => e.valAccuracy))).toBeGreaterThan(headAccuracy);
  });

  it('leaves every BatchNorm moving statistic and every frozen layer untouched, and trains the unfrozen layers', () => {
    const after = batchNormStatistics(base);
    // 52 BatchNormalization layers, a moving mean and a moving variance each.
    expect(after.size).toBe(104);
    for (const [name, values] of before.stats) expect(after.get(name), name).toEqual(values);
    expect(weightOf(base, 'block_10_project/kernel')).toEqual(before.frozen);
    // Trained, unless no fine-tuning epoch beat the head it started from (then the fine-tuning is undone).
    const fineTuned = result.history.kept!['fine-tune']! >= H;
    if (fineTuned) expect(weightOf(base, 'block_16_project/kernel')).not.toEqual(before.unfrozen);
    else expect(weightOf(base, 'block_16_project/kernel')).toEqual(before.unfrozen);
  });

  it('leaks no tensor: the same tensor count after fine-tune epochs 2 and 5', () => {
    expect(tensorsAfter.get(H + 1)).toBeGreaterThan(0);
    expect(tensorsAfter.get(H + 4)).toBe(tensorsAfter.get(H + 1));
  });

  it('keeps the epoch of lowest validation loss among the head it started from and its own epochs', async () => {
    const { epochs, kept } = result.history;
    const candidates = [epochs[kept!.head!], ...epochs.filter((e) => e.stage === 'fine-tune')];
    const best = candidates.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(kept!['fine-tune']).toBe(best.epoch);
    const cut = sourcesOf(fixture, job.split, SETTINGS.augmentViews, 'cut');
    const evaluation = await evaluate(result.cutModel!, cut.validation, fixture.folder.classes, 'validation');
    expect(evaluation.loss).toBeCloseTo(best.valLoss, 4);
    expect(evaluation.accuracy).toBeCloseTo(best.valAccuracy, 6);
  });

  it('exports the fine-tuned classifier: on images it predicts what stage 2 predicts from the cut activations', async () => {
    const ids = job.split.validation.slice(0, 16);
    const byId = new Map(fixture.folder.images.map((i) => [i.id, i.path]));
    const input = await preprocessImages(ids.map((id) => byId.get(id)!), ids, SIZE);
    const classifier = buildClassifier(base, result.head);
    const exported = await exportLayersModel(classifier, {
      classes: fixture.folder.classes,
      inputSize: SIZE,
      preprocessing: MOBILENET_PREPROCESSING,
    });
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifactsFromFiles(exported.modelJson, exported.weightsBin)));
    const [onImages, onReloaded] = tf.tidy(() => [classifier.predict(input) as tf.Tensor, reloaded.predict(input) as tf.Tensor]);
    const cut = sourcesOf(fixture, job.split, SETTINGS.augmentViews, 'cut');
    const onCut = await predictSource(result.cutModel!, {
      imageIds: ids,
      labels: cut.validation.labels.slice(0, ids.length),
      batch: (indices) => cut.validation.batch(indices),
    });
    const stage2 = tf.tensor(onCut.probabilities, [ids.length, 5]);
    expect(tf.max(tf.abs(tf.sub(onImages, stage2))).dataSync()[0]).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(tf.sub(onReloaded, onImages))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([input, onImages, onReloaded, stage2]);
    releaseModels(reloaded);
  });

  it('takes no more room than the storage plan counts for a checkpoint', () => {
    const checkpoint = checkpoints.find((c) => c.stage === 'fine-tune')!;
    const floats = (arrays: readonly { data: Float32Array }[]) => arrays.reduce((n, a) => n + a.data.length, 0);
    const params = floats(checkpoint.trainableWeights);
    const stored = 4 * (floats(checkpoint.trainableWeights) + floats(checkpoint.best!.weights) + floats(checkpoint.optimizerWeights));
    // Only checkpoints: no samples, no model. The plan counts the old and the new one while a put commits.
    const planned = bytesNeeded({ samples: 0, cutSamples: 0, pooledSize: 0, cutSize: 1, modelBytes: 0, headParams: 0, fineTuneParams: params }, 'uint8');
    expect(planned).toBeGreaterThanOrEqual(2 * stored);
  });

  it('resumes from a fine-tune checkpoint (weights and optimizer state) and ends like the uninterrupted run', async () => {
    const checkpoint = structuredClone(checkpoints.find((c) => c.stage === 'fine-tune' && c.epoch === H + 4)!);
    expect(checkpoint.trainableWeights.map((w) => w.name)).toContain('block_16_project/kernel');
    expect(checkpoint.optimizerWeights).toHaveLength(1 + 2 * checkpoint.trainableWeights.length);
    const freshBase = await loadFlowersBase(SIZE);
    const resumed = await resumeTraining({ base: freshBase, data: job.data }, checkpoint);
    const expected = result.history.epochs;
    expect(resumed.history.epochs.map((e) => [e.epoch, e.stage])).toEqual(expected.map((e) => [e.epoch, e.stage]));
    expect(resumed.history.epochs.slice(0, H + 4)).toEqual(expected.slice(0, H + 4));
    expect(resumed.history.epochs.at(-1)!.loss).toBeCloseTo(expected.at(-1)!.loss, 3);
    expect(Math.abs(resumed.history.epochs.at(-1)!.valAccuracy - expected.at(-1)!.valAccuracy)).toBeLessThanOrEqual(0.01);
    releaseModels(resumed.head, freshBase);
  });
});
