/**
 * Stage 1 and export on real data: MobileNetV2-0.35 @224 pooled features of 160 flowers per class (wasm backend).
 * What a user notices: the head learns (>= 87% on validation with the default settings), memory does not grow with
 * epochs, an interrupted run resumes from its last checkpoint and ends where an uninterrupted one does, and the
 * exported model (float32, float16, uint8) predicts what the trained one does.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainSettings } from '../../shared/training';
import type { TrainingState } from '../../shared/training';
import { evaluate, lossAndAccuracy, predictSource } from '../../client/trainer/evaluate';
import { artifactsFromFiles, buildClassifier, exportLayersModel } from '../../client/trainer/export';
import { toFloat16 } from '../../shared/float16';
import { releaseModels } from '../../client/engine/release';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { resumeTraining, train, type TrainResult } from '../../client/trainer/train';
import { FLOWERS_DIR, MOBILENET_PREPROCESSING, listClassFolder, preprocessImages } from '../support/node-features';
import { useBackend } from '../../tools/measure/tf-node';
import { flowersFixture, loadFlowersBase, sourcesOf, splitOf, type FlowersFixture } from '../support/trainer-fixtures';

const SETTINGS: TrainSettings = { ...DEFAULT_SETTINGS, fineTuneEpochs: 0 };

let fixture: FlowersFixture;
let base: tfl.LayersModel;

beforeAll(async () => {
  await useBackend('wasm');
  fixture = await flowersFixture({ perClass: 160, inputSize: 224, views: SETTINGS.augmentViews });
  base = await loadFlowersBase(224);
});

function jobFor(settings: TrainSettings) {
  const split = splitOf(fixture, settings);
  const sources = sourcesOf(fixture, split, settings.augmentViews, 'pooled');
  return {
    split,
    sources,
    job: {
      base,
      classes: fixture.folder.classes,
      split,
      settings,
      data: { head: { train: sources.train, validation: sources.validation } },
    },
  };
}

describe('head training', () => {
  let trained: TrainResult;
  let checkpoints: TrainingState[];
  let run: ReturnType<typeof jobFor>;

  beforeAll(async () => {
    run = jobFor(SETTINGS);
    checkpoints = [];
    trained = await train(run.job, { onCheckpoint: (c) => void checkpoints.push(c) });
  });

  it('reaches >= 87% validation accuracy with the default settings, starting from chance', () => {
    const { history } = trained;
    console.info(
      `head: loss0 ${history.initial!.valLoss.toFixed(3)} accuracy0 ${history.initial!.valAccuracy.toFixed(3)}; ` +
        `val accuracy by epoch ${history.epochs.map((e) => e.valAccuracy.toFixed(3)).join(' ')}; ` +
        `${(history.epochs.reduce((s, e) => s + e.seconds, 0) / history.epochs.length).toFixed(2)} s/epoch`,
    );
    expect(history.initial!.valAccuracy).toBeLessThan(0.5);
    expect(history.epochs.map((e) => [e.epoch, e.stage])).toEqual(
      Array.from({ length: SETTINGS.headEpochs }, (_, i) => [i, 'head']),
    );
    expect(history.epochs.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(0.87);
    expect(history.epochs.at(-1)!.valLoss).toBeLessThan(history.initial!.valLoss / 2);
    expect(history.fineTuneStartEpoch).toBeNull();
    expect(trained.cutModel).toBeNull();
  });

  it('ends with the weights of its epoch of lowest validation loss', async () => {
    const { epochs, kept } = trained.history;
    const best = epochs.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(kept).toEqual({ head: best.epoch });
    const evaluation = await evaluate(trained.head, run.sources.validation, fixture.folder.classes, 'validation');
    expect(evaluation.loss).toBeCloseTo(best.valLoss, 6);
    expect(evaluation.accuracy).toBeCloseTo(best.valAccuracy, 6);
    expect(trained.history.stoppedEarly).toBeUndefined();
  });

  it('stops a stage that has not improved for `patience` epochs, keeping its best, and a resume does not restart it', async () => {
    // A learning rate this high overshoots after a few epochs: the validation loss stops improving. (On the augmented
    // view too it diverges at once, which is not what this test is about.)
    const settings = { ...SETTINGS, augmentViews: 0, headEpochs: 40, learningRate: 0.05, patience: 2 };
    const { job } = jobFor(settings);
    const saved: TrainingState[] = [];
    const result = await train(job, { onCheckpoint: (c) => void saved.push(c) });
    const { epochs, kept, stoppedEarly } = result.history;
    console.info(`patience 2 at lr 0.05: stopped after epoch ${stoppedEarly?.head}, kept ${kept?.head}; val loss ${epochs.map((e) => e.valLoss.toFixed(3)).join(' ')}`);
    expect(epochs.length).toBeLessThan(40);
    expect(stoppedEarly).toEqual({ head: epochs.at(-1)!.epoch });
    expect(epochs.at(-1)!.epoch - kept!.head!).toBe(2);
    expect(Math.min(...epochs.map((e) => e.valLoss))).toBe(epochs[kept!.head!].valLoss);
    // The last checkpoint says the stage is over: resuming it trains nothing more and gives the same classifier.
    expect(saved.at(-1)!.epoch).toBe(40);
    const freshBase = await loadFlowersBase(224);
    const sources = sourcesOf(fixture, saved.at(-1)!.split, settings.augmentViews, 'pooled');
    const resumed = await resumeTraining({ base: freshBase, data: { head: { train: sources.train, validation: sources.validation } } }, structuredClone(saved.at(-1)!));
    expect(resumed.history.epochs).toEqual(epochs);
    const [a, b] = await Promise.all([predictSource(result.head, sources.validation), predictSource(resumed.head, sources.validation)]);
    expect(b.probabilities).toEqual(a.probabilities);
    releaseModels(result.head, resumed.head, freshBase);
  });

  it('hands out a plain-data checkpoint after every epoch', () => {
    expect(checkpoints.map((c) => [c.stage, c.epoch])).toEqual(
      Array.from({ length: SETTINGS.headEpochs }, (_, i) => ['head', i + 1]),
    );
    const last = structuredClone(checkpoints.at(-1)!);
    expect(last.history).toEqual(trained.history);
    expect(last.split).toEqual(run.split);
    expect(last.trainableWeights.map((w) => [w.name, w.shape])).toEqual([
      ['head_output/kernel', [1280, 5]],
      ['head_output/bias', [5]],
    ]);
    // Adam: the iteration count, then m and v for each trainable weight.
    const batches = Math.ceil(run.split.train.length / SETTINGS.batchSize);
    expect(last.optimizerWeights[0]).toMatchObject({ name: 'iter', shape: [] });
    expect(last.optimizerWeights[0].data[0]).toBe(batches * SETTINGS.headEpochs);
    expect(last.optimizerWeights.slice(1).map((w) => w.shape)).toEqual([[1280, 5], [5], [1280, 5], [5]]);
  });

  it('evaluates the trained head on validation: accuracy, per-class accuracy, confusion and every prediction', async () => {
    const evaluation = await evaluate(trained.head, run.sources.validation, fixture.folder.classes, 'validation');
    expect(evaluation.accuracy).toBeCloseTo(trained.history.epochs.at(-1)!.valAccuracy, 6);
    expect(evaluation.loss).toBeCloseTo(trained.history.epochs.at(-1)!.valLoss, 5);
    expect(evaluation.predictions.map((p) => p.imageId)).toEqual(run.split.validation);
    const perClass = evaluation.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    expect(perClass).toEqual([32, 32, 32, 32, 32]);
    evaluation.perClassAccuracy.forEach((accuracy, k) => expect(accuracy).toBeCloseTo(evaluation.confusion[k][k] / 32, 9));
    for (const p of evaluation.predictions) {
      expect(p.trueClass).toBe(fixture.labelOf.get(p.imageId));
      expect(p.confidence).toBeGreaterThanOrEqual(1 / 5);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('leaks no tensor: the same tensor count after epoch 2 and epoch 30', async () => {
    const counts = new Map<number, number>();
    const { job } = jobFor({ ...SETTINGS, headEpochs: 30 });
    const result = await train(job, {
      onEpoch: (record) => void counts.set(record.epoch, tf.memory().numTensors),
      onCheckpoint: () => undefined,
    });
    expect(counts.get(1)).toBeGreaterThan(0);
    expect(counts.get(29)).toBe(counts.get(1));
    const before = tf.memory().numTensors;
    releaseModels(result.head);
    expect(tf.memory().numTensors).toBe(before - 2);
  });

  it('resumes an interrupted run from its last checkpoint and ends like the uninterrupted run', async () => {
    const { job } = jobFor(SETTINGS);
    const saved: TrainingState[] = [];
    const controller = new AbortController();
    const tensorsBefore = tf.memory().numTensors;
    const interrupted = train(job, {
      signal: controller.signal,
      onCheckpoint: (c) => void saved.push(c),
      onBatch: (p) => {
        if (p.epoch === 4 && p.batch === 3) controller.abort();
      },
    });
    await expect(interrupted).rejects.toMatchObject({ name: 'AbortError' });
    // The aborted run freed its head and optimizer.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(saved.map((c) => c.epoch)).toEqual([1, 2, 3, 4]);

    const checkpoint = structuredClone(saved.at(-1)!);
    expect(checkpoint.split).toEqual(run.split);
    const freshBase = await loadFlowersBase(224);
    const sources = sourcesOf(fixture, checkpoint.split, checkpoint.settings.augmentViews, 'pooled');
    const resumed = await resumeTraining(
      { base: freshBase, data: { head: { train: sources.train, validation: sources.validation } } },
      checkpoint,
    );
    const expected = trained.history;
    expect(resumed.history.initial).toEqual(expected.initial);
    expect(resumed.history.epochs.map((e) => e.epoch)).toEqual(expected.epochs.map((e) => e.epoch));
    expect(resumed.history.epochs.slice(0, 4)).toEqual(saved.at(-1)!.history.epochs);
    // Same shuffles, dropout masks and optimizer state: the resumed epochs retrace the uninterrupted ones.
    resumed.history.epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(expected.epochs[i].loss, 4));
    expect(Math.abs(resumed.history.epochs.at(-1)!.valAccuracy - expected.epochs.at(-1)!.valAccuracy)).toBeLessThanOrEqual(0.01);
    // The best epoch survives the interruption: the same epoch is kept and the classifier is that epoch's.
    expect(resumed.history.kept).toEqual(expected.kept);
    const keptLoss = (await evaluate(resumed.head, sources.validation, fixture.folder.classes, 'validation')).loss;
    expect(keptLoss).toBeCloseTo(expected.epochs[expected.kept!.head!].valLoss, 3);
    releaseModels(resumed.head, freshBase);
  });

  it('rejects bad settings and a fine-tuning run without cut activations before training anything', async () => {
    const { job } = jobFor(SETTINGS);
    await expect(train({ ...job, settings: { ...SETTINGS, learningRate: 0, batchSize: 2.5 } })).rejects.toThrow(
      /learningRate must be > 0; batchSize must be an integer/,
    );
    await expect(train({ ...job, settings: { ...SETTINGS, fineTuneEpochs: 2 } })).rejects.toThrow(/cut activations/);
  });

  describe('augmented views per epoch', () => {
    /** Two epochs with one augmented view: the samples (image, view) each epoch trains on, and its batch count. */
    async function epochsOf(viewsPerEpoch: TrainSettings['viewsPerEpoch']) {
      const settings: TrainSettings = { ...SETTINGS, augmentViews: 1, viewsPerEpoch, headEpochs: 2 };
      const { job } = jobFor({ ...settings, augmentViews: 0 });
      const images = job.data.head.train.imageIds.length;
      // View 1 of each image is served by its view 0's features: the test looks at which samples are asked for.
      const viewed = job.data.head.train;
      const seen = [[], []] as { image: number; view: number }[][];
      let epoch = 0;
      const train2Views = {
        imageIds: [...viewed.imageIds, ...viewed.imageIds],
        labels: Int32Array.from([...viewed.labels, ...viewed.labels]),
        batch: (indices: readonly number[]) => {
          seen[epoch].push(...indices.map((i) => ({ image: i % images, view: Math.floor(i / images) })));
          return viewed.batch(indices.map((i) => i % images));
        },
      };
      const batches = [0, 0];
      const result = await train(
        { ...job, settings, data: { head: { ...job.data.head, train: train2Views } } },
        { onBatch: (p) => (batches[p.epoch] = p.batches), onEpoch: () => void epoch++ },
      );
      releaseModels(result.head);
      return { images, seen, batches };
    }

    it("'one' trains each image once per epoch, alternating its views, in as many steps as without augmentation", async () => {
      const { images, seen, batches } = await epochsOf('one');
      expect(batches).toEqual([Math.ceil(images / SETTINGS.batchSize), Math.ceil(images / SETTINGS.batchSize)]);
      for (const samples of seen) expect(samples.map((s) => s.image).sort((a, b) => a - b)).toEqual([...Array(images).keys()]);
      const viewIn = seen.map((samples) => new Map(samples.map((s) => [s.image, s.view])));
      for (let image = 0; image < images; image++) expect([viewIn[0].get(image), viewIn[1].get(image)].sort()).toEqual([0, 1]);
      // Half of each epoch is augmented.
      expect(seen[0].filter((s) => s.view === 1).length).toBe(Math.floor(images / 2));
    });

    it("'all' trains every view of each image every epoch", async () => {
      const { images, seen, batches } = await epochsOf('all');
      expect(batches).toEqual([Math.ceil((2 * images) / SETTINGS.batchSize), Math.ceil((2 * images) / SETTINGS.batchSize)]);
      for (const samples of seen) expect(samples.filter((s) => s.view === 1).length).toBe(images);
    });
  });

  describe('class weights', () => {
    /** The split with all but every eighth training image of one class dropped: 16 daisies against 128 of each other class. */
    function imbalanced(settings: TrainSettings) {
      const { split } = jobFor(settings);
      const daisy = fixture.folder.classes.indexOf('daisy');
      const daisies = split.train.filter((id) => fixture.labelOf.get(id) === daisy);
      const kept = new Set(daisies.filter((_, i) => i % 8 === 0));
      const train = split.train.filter((id) => fixture.labelOf.get(id) !== daisy || kept.has(id));
      const sources = sourcesOf(fixture, { ...split, train }, settings.augmentViews, 'pooled');
      return {
        daisy,
        job: {
          base,
          classes: fixture.folder.classes,
          split: { ...split, train },
          settings,
          data: { head: { train: sources.train, validation: sources.validation } },
        },
        validation: sources.validation,
      };
    }

    async function trainOn(weighting: TrainSettings['classWeighting']) {
      const run = imbalanced({ ...SETTINGS, classWeighting: weighting });
      const result = await train(run.job);
      const evaluation = await evaluate(result.head, run.validation, fixture.folder.classes, 'validation');
      releaseModels(result.head);
      return { evaluation, history: result.history, daisy: run.daisy };
    }

    it('lifts the rare class when weighted, and "auto" weights a dataset this imbalanced', async () => {
      const unweighted = await trainOn('none');
      const balanced = await trainOn('balanced');
      const auto = await trainOn('auto');
      const { daisy } = unweighted;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.info(
        `16 daisies vs 128 of each other class: daisy validation accuracy ${unweighted.evaluation.perClassAccuracy[daisy].toFixed(3)} ` +
          `unweighted, ${balanced.evaluation.perClassAccuracy[daisy].toFixed(3)} weighted; mean per-class ` +
          `${mean(unweighted.evaluation.perClassAccuracy).toFixed(3)} vs ${mean(balanced.evaluation.perClassAccuracy).toFixed(3)}`,
      );
      expect(balanced.evaluation.perClassAccuracy[daisy]).toBeGreaterThanOrEqual(unweighted.evaluation.perClassAccuracy[daisy] + 0.1);
      expect(mean(balanced.evaluation.perClassAccuracy)).toBeGreaterThanOrEqual(mean(unweighted.evaluation.perClassAccuracy));
      expect(auto.history).toEqual({ ...balanced.history, epochs: auto.history.epochs.map((e, i) => ({ ...balanced.history.epochs[i], seconds: e.seconds })) });
    });

    it('leaves a balanced dataset as it was under "auto"', async () => {
      const { job } = jobFor({ ...SETTINGS, classWeighting: 'auto', headEpochs: 2 });
      const auto = await train(job);
      const none = await train({ ...job, settings: { ...job.settings, classWeighting: 'none' } });
      expect(auto.history.epochs.map((e) => e.loss)).toEqual(none.history.epochs.map((e) => e.loss));
      releaseModels(auto.head, none.head);
    });
  });

  describe('export', () => {
    /** Flowers the head never saw, neither in training nor in validation: 80 per class. */
    const HELD_OUT_PER_CLASS = 80;
    let heldOut: { paths: string[]; ids: string[]; labels: number[] };

    beforeAll(async () => {
      const all = await listClassFolder(FLOWERS_DIR);
      const unseen = all.images.filter((i) => !fixture.labelOf.has(i.id));
      const picked = all.classes.flatMap((name) => {
        const ofClass = unseen.filter((i) => i.className === name);
        return Array.from({ length: HELD_OUT_PER_CLASS }, (_, k) => ofClass[Math.floor((k * ofClass.length) / HELD_OUT_PER_CLASS)]);
      });
      heldOut = {
        paths: picked.map((i) => i.path),
        ids: picked.map((i) => i.id),
        labels: picked.map((i) => all.classes.indexOf(i.className)),
      };
    });

    /** Probabilities of each model for the first `count` images, preprocessing each chunk once. */
    async function predictImages(
      models: tfl.LayersModel[],
      images: { paths: string[]; ids: string[] },
      count = images.ids.length,
    ): Promise<Float32Array[]> {
      const out = models.map(() => new Float32Array(count * 5));
      for (let start = 0; start < count; start += 32) {
        const end = Math.min(start + 32, count);
        const input = await preprocessImages(images.paths.slice(start, end), images.ids.slice(start, end), 224);
        for (const [m, model] of models.entries()) {
          const probs = model.predict(input) as tf.Tensor;
          out[m].set(await probs.data(), start * 5);
          probs.dispose();
        }
        input.dispose();
      }
      return out;
    }

    function metadata() {
      return { classes: fixture.folder.classes, inputSize: 224, preprocessing: MOBILENET_PREPROCESSING };
    }

    function accuracyOf(probabilities: Float32Array): number {
      return lossAndAccuracy({ probabilities, labels: Int32Array.from(heldOut.labels), classCount: 5 }).accuracy;
    }

    function topClasses(probabilities: Float32Array): number[] {
      return Array.from({ length: probabilities.length / 5 }, (_, i) => {
        const row = Array.from(probabilities.subarray(i * 5, i * 5 + 5));
        return row.indexOf(Math.max(...row));
      });
    }

    function maxAbsDiff(a: Float32Array, b: Float32Array): number {
      return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    }

    it('is the trained classifier: the model on images predicts what the head predicts on the cached features', async () => {
      const classifier = buildClassifier(base, trained.head);
      const byId = new Map(fixture.folder.images.map((i) => [i.id, i.path]));
      const ids = run.split.validation.slice(0, 32);
      const [onImages] = await predictImages([classifier], { ids, paths: ids.map((id) => byId.get(id)!) });
      const onFeatures = await predictSource(trained.head, {
        imageIds: ids,
        labels: run.sources.validation.labels.slice(0, ids.length),
        batch: (indices) => run.sources.validation.batch(indices),
      });
      expect(maxAbsDiff(onImages, onFeatures.probabilities)).toBeLessThan(1e-4);
    });

    it('reloads (from memory and from the model.json + weights.bin pair) with the same predictions', async () => {
      const classifier = buildClassifier(base, trained.head);
      const exported = await exportLayersModel(classifier, metadata());
      const json = JSON.parse(exported.modelJson);
      expect(json.weightsManifest.map((g: { paths: string[] }) => g.paths)).toEqual([['weights.bin']]);
      expect(json.userDefinedMetadata.classifier).toEqual(metadata());
      const fromMemory = await tfl.loadLayersModel(tf.io.fromMemory(exported.artifacts));
      const fromFiles = await tfl.loadLayersModel(tf.io.fromMemory(artifactsFromFiles(exported.modelJson, exported.weightsBin)));
      const [original, memory, files] = await predictImages([classifier, fromMemory, fromFiles], heldOut, 32);
      expect(maxAbsDiff(memory, original)).toBeLessThan(1e-5);
      expect(maxAbsDiff(files, original)).toBeLessThan(1e-5);
      releaseModels(fromMemory, fromFiles);
    });

    // 1,200 forward passes of the whole classifier at 224 px: minutes when the machine is shared with other work.
    it('exports float16 and uint8 weights that load as they are and lose at most 1 point of accuracy', async () => {
      const classifier = buildClassifier(base, trained.head);
      const exports = await Promise.all(
        (['float32', 'float16', 'uint8'] as const).map((q) => exportLayersModel(classifier, metadata(), q)),
      );
      const [f32, f16, u8] = exports;
      expect(f16.weightsBin.byteLength).toBe(f32.weightsBin.byteLength / 2);
      // uint8 for the large Conv2D/Dense kernels (most of the bytes), float16 for per-channel tensors and small kernels.
      const u8Specs = JSON.parse(u8.modelJson).weightsManifest[0].weights as { name: string; quantization: { dtype: string } }[];
      expect(u8Specs.find((w) => w.name === 'block_16_project/kernel')!.quantization.dtype).toBe('uint8');
      expect(u8Specs.find((w) => w.name === 'block_16_depthwise/depthwise_kernel')!.quantization.dtype).toBe('float16');
      expect(u8.weightsBin.byteLength).toBeLessThan(f32.weightsBin.byteLength * 0.35);
      const models = await Promise.all(
        exports.map((e) => tfl.loadLayersModel(tf.io.fromMemory(artifactsFromFiles(e.modelJson, e.weightsBin)))),
      );
      const [p32, p16, p8] = await predictImages(models, heldOut);
      const [a32, a16, a8] = [p32, p16, p8].map(accuracyOf);
      console.info(
        `export on ${heldOut.ids.length} held-out images: float32 ${a32.toFixed(4)}, float16 ${a16.toFixed(4)} ` +
          `(max prob diff ${maxAbsDiff(p16, p32).toFixed(4)}), uint8 ${a8.toFixed(4)} (max prob diff ${maxAbsDiff(p8, p32).toFixed(4)}); ` +
          `weights ${f32.weightsBin.byteLength} / ${f16.weightsBin.byteLength} / ${u8.weightsBin.byteLength} bytes`,
      );
      const agreement = (p: Float32Array) => topClasses(p).filter((c, i) => c === topClasses(p32)[i]).length / heldOut.ids.length;
      console.info(`top-1 agreement with float32: float16 ${agreement(p16).toFixed(4)}, uint8 ${agreement(p8).toFixed(4)}`);
      expect(agreement(p16)).toBeGreaterThanOrEqual(0.99);
      // uint8 moves close calls: 0.98-0.99 of top-1s agreed for a head trained without augmentation, 0.975 with it.
      expect(agreement(p8)).toBeGreaterThanOrEqual(0.97);
      // At most 1 point (4 of 400 photos) lost; a quantized model may also get a few more right (rounding noise).
      const ONE_POINT = 0.01 + 1e-9;
      expect(a32 - a16).toBeLessThanOrEqual(ONE_POINT);
      expect(a32 - a8).toBeLessThanOrEqual(ONE_POINT);
      releaseModels(...models);
    }, 300_000);

    it('writes float16 as IEEE half precision, rounding to nearest even', () => {
      const halves = toFloat16(Float32Array.from([0, -0, 1, -2, 65504, 65520, 1e-8, 5.960464477539063e-8, 1 + 2 ** -11, Infinity, NaN]));
      expect(Array.from(halves, (h) => h.toString(16))).toEqual(
        ['0', '8000', '3c00', 'c000', '7bff', '7c00', '0', '1', '3c00', '7c00', '7e00'],
      );
    });
  });
});
