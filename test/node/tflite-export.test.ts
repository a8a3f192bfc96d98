/**
 * The TFLite export, checked by a runtime none of us wrote: LiteRT.js (@litertjs/core's own wasm) in headless
 * Chromium runs each exported file on real flower photos the classifier did not train on. The classifiers are
 * real: MobileNetV2-0.35 at 160 px (to keep the test fast) with its head trained and its top fine-tuned on 300
 * flowers, and MobileNetV1-0.25 with a head. What a user notices: the float32 file gives the TF.js model's
 * probabilities, float16 its answers at half the size, int8 its accuracy at a fraction of the size; the file's
 * input and output are what its README says; labels travel inside it; a layer it cannot express is named.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainSettings } from '../../shared/training';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { loadBaseModel } from '../../client/engine/base-model';
import { buildClassifier } from '../../client/trainer/export';
import { FoldError } from '../../client/engine/fold';
import { buildHead } from '../../client/trainer/head';
import { releaseModels } from '../../client/engine/release';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { train } from '../../client/trainer/train';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { exportTflite, type TfliteExport } from '../../client/tflite/export-tflite';
import { kotlinSnippet, pythonSnippet, tfliteReadme } from '../../client/tflite/snippets';
import { openLiteRtBrowser, type LiteRtBrowser } from '../../tools/measure/litert-browser';
import { readModelArtifacts } from '../../tools/measure/model-artifacts';
import { decodeFile } from '../../tools/measure/decode-file';
import { MOBILENET_PREPROCESSING, SHARED_DIR } from '../support/node-features';
import { useBackend } from '../../tools/measure/tf-node';
import { flowersFixture, loadFlowersBase, sourcesOf, splitOf, type FlowersFixture } from '../support/trainer-fixtures';

const SIZE = 160;
const SETTINGS: TrainSettings = { ...DEFAULT_SETTINGS, split: { validation: 0.4, test: 0 }, headEpochs: 5, fineTuneEpochs: 1 };

let fixture: FlowersFixture;
let runtime: LiteRtBrowser;

/** Pixels 0..255 [n, S, S, 3] of images, in order. */
async function pixelsOf(paths: string[], size: number): Promise<tf.Tensor4D> {
  const images: tf.Tensor3D[] = [];
  for (const path of paths) images.push(resizeToSquare(await decodeFile(path), size));
  const batch = tf.stack(images) as tf.Tensor4D;
  tf.dispose(images);
  return batch;
}

/** One array per image: float32 preprocessed (float kinds) or the pixels as bytes (int8's uint8 input). */
function fileInputs(pixels: tf.Tensor4D, type: 'float32' | 'uint8'): (Float32Array | Uint8Array)[] {
  return tf.tidy(() =>
    tf.unstack(type === 'uint8' ? tf.round(pixels) : normalise(pixels, MOBILENET_PREPROCESSING)).map((image) =>
      type === 'uint8' ? Uint8Array.from(image.dataSync()) : (image.dataSync() as Float32Array).slice(),
    ),
  );
}

const argmax = (values: ArrayLike<number>) => Array.prototype.indexOf.call(values, Math.max(...Array.from(values)));

function maxDifference(a: Float32Array[], b: number[][]): number {
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j])))));
  return max;
}

beforeAll(async () => {
  await useBackend('wasm');
  registerWasmBackpropKernels();
  [fixture, runtime] = await Promise.all([
    flowersFixture({ perClass: 100, inputSize: SIZE, views: SETTINGS.augmentViews, fineTuneAt: SETTINGS.fineTuneAt }),
    openLiteRtBrowser(),
  ]);
}, 600_000);

afterAll(async () => {
  await runtime?.close();
});

describe('a fine-tuned MobileNetV2-0.35 flowers classifier', () => {
  let model: tfl.LayersModel;
  let validation: { pixels: tf.Tensor4D; labels: number[] };
  /** The TF.js model's probabilities on the validation photos. */
  let reference: number[][];
  const files = new Map<string, { exported: TfliteExport; outputs: Float32Array[]; input: { dtype: string; shape: number[] }; output: { dtype: string; shape: number[] } }>();

  beforeAll(async () => {
    const base = await loadFlowersBase(SIZE);
    const split = splitOf(fixture, SETTINGS);
    const pooled = sourcesOf(fixture, split, SETTINGS.augmentViews, 'pooled');
    const cut = sourcesOf(fixture, split, SETTINGS.augmentViews, 'cut');
    const result = await train({
      base,
      classes: fixture.folder.classes,
      split,
      settings: SETTINGS,
      data: { head: { train: pooled.train, validation: pooled.validation }, cut: { train: cut.train, validation: cut.validation } },
    });
    expect(result.history.epochs.at(-1)!.stage).toBe('fine-tune');
    model = buildClassifier(base, result.head);

    const pathOf = new Map(fixture.folder.images.map((i) => [i.id, i]));
    validation = {
      pixels: await pixelsOf(split.validation.map((id) => pathOf.get(id)!.path), SIZE),
      labels: split.validation.map((id) => fixture.folder.classes.indexOf(pathOf.get(id)!.className)),
    };
    reference = tf.tidy(() => (model.predict(normalise(validation.pixels, MOBILENET_PREPROCESSING)) as tf.Tensor).arraySync() as number[][]);

    // Calibration: the training photos, as the page does it, in batches.
    const trainPaths = split.train.map((id) => pathOf.get(id)!.path);
    async function* calibration() {
      for (let i = 0; i < trainPaths.length; i += 32) {
        const pixels = await pixelsOf(trainPaths.slice(i, i + 32), SIZE);
        const batch = normalise(pixels, MOBILENET_PREPROCESSING) as tf.Tensor4D;
        pixels.dispose();
        yield batch;
        batch.dispose();
      }
    }
    for (const kind of ['float32', 'float16', 'int8'] as const) {
      const exported = await exportTflite(model, {
        kind,
        labels: fixture.folder.classes,
        preprocessing: MOBILENET_PREPROCESSING,
        calibration: kind === 'int8' ? calibration() : undefined,
      });
      const run = await runtime.run(exported.file, fileInputs(validation.pixels, exported.signature.input.type));
      files.set(kind, { exported, outputs: run.outputs, input: run.input, output: run.output });
    }
  }, 1_200_000);

  afterAll(() => {
    validation?.pixels.dispose();
    if (model) releaseModels(model);
  });

  it('float32: the file gives the TF.js model\'s probabilities within 1e-4 on 100 validation photos', () => {
    const { outputs } = files.get('float32')!;
    expect(validation.labels.length).toBeGreaterThanOrEqual(100);
    expect(maxDifference(outputs.slice(0, 100), reference.slice(0, 100))).toBeLessThan(1e-4);
  });

  it('float16: same top-1 as the TF.js model on at least 99% of those photos, about half the size', () => {
    const { outputs, exported } = files.get('float16')!;
    const same = outputs.slice(0, 100).filter((o, i) => argmax(o) === argmax(reference[i])).length;
    expect(same).toBeGreaterThanOrEqual(99);
    const ratio = exported.file.byteLength / files.get('float32')!.exported.file.byteLength;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.55);
  });

  it('int8: loses at most 1.5 points of validation accuracy against float32, in a file a third of the size', () => {
    const accuracy = (outputs: Float32Array[]) => outputs.filter((o, i) => argmax(o) === validation.labels[i]).length / outputs.length;
    const float32 = files.get('float32')!;
    const int8 = files.get('int8')!;
    const ratio = int8.exported.file.byteLength / float32.exported.file.byteLength;
    console.info(
      `tflite @${SIZE} on ${validation.labels.length} validation flowers: float32 ${accuracy(float32.outputs).toFixed(4)} ` +
        `(${float32.exported.file.byteLength} B), float16 ${accuracy(files.get('float16')!.outputs).toFixed(4)}, ` +
        `int8 ${accuracy(int8.outputs).toFixed(4)} (${int8.exported.file.byteLength} B, ${(ratio * 100).toFixed(1)}%), ` +
        `int8 top-1 = TF.js top-1 on ${int8.outputs.filter((o, i) => argmax(o) === argmax(reference[i])).length}/${reference.length}`,
    );
    // What a user would notice is a loss; on 200 photos a file may also come out a few images better.
    expect(accuracy(int8.outputs)).toBeGreaterThanOrEqual(accuracy(float32.outputs) - 0.015);
    // Per-channel scales and int32 biases cost 12 bytes a channel (7045 channels here): see the README.
    expect(ratio).toBeLessThanOrEqual(0.33);
  });

  it('has the input and output its signature says, the labels inside the file, one label per output', () => {
    for (const [kind, { exported, input, output }] of files) {
      const { signature } = exported;
      expect(input, kind).toEqual({ name: 'image', dtype: signature.input.type, shape: [1, SIZE, SIZE, 3] });
      expect(output, kind).toEqual({ name: 'probabilities', dtype: 'float32', shape: [1, fixture.folder.classes.length] });
      expect(signature.input.shape).toEqual(input.shape);
      expect(signature.output.shape).toEqual(output.shape);
      // labels.txt in the zip appended to the model, as tflite-support's metadata tools read it.
      const labels = strFromU8(unzipSync(exported.file)['labels.txt']).trimEnd().split('\n');
      expect(labels).toEqual(fixture.folder.classes);
      expect(labels).toHaveLength(output.shape[1]);
    }
    expect(files.get('int8')!.exported.signature.input.quantization).toEqual({ scale: 1 / 127.5, zeroPoint: 128 });
    expect(files.get('float32')!.exported.signature.input.quantization).toBeNull();
  });

  it('the README, the Kotlin and the Python code say the input the runtime reads and size the output from labels.txt', () => {
    for (const [kind, { exported, input, output }] of files) {
      const snippet = { kind: exported.kind, signature: exported.signature, preprocessing: MOBILENET_PREPROCESSING, labels: exported.labels };
      const uint8 = input.dtype === 'uint8';
      const readme = tfliteReadme(snippet);
      expect(readme, kind).toContain(`${input.dtype} [${input.shape.join(', ')}]`);
      expect(readme, kind).toContain(`Output: float32 [${output.shape.join(', ')}]`);
      if (uint8) expect(readme).toContain('(scale 0.00784313725490196, zero point 128)');
      else expect(readme, kind).toContain('x * 0.00784313725490196 + -1');
      const kotlin = kotlinSnippet(snippet);
      expect(kotlin, kind).toContain(`ByteBuffer.allocateDirect(${SIZE} * ${SIZE} * 3 * ${uint8 ? 1 : 4})`);
      expect(kotlin, kind).toContain(`Bitmap.createScaledBitmap(bitmap, ${SIZE}, ${SIZE}, true)`);
      expect(kotlin, kind).toContain(uint8 ? 'input.put(((p shr 16) and 0xFF).toByte())' : 'input.putFloat(((p shr 16) and 0xFF) * 0.00784313725490196f + -1.0f)');
      expect(kotlin, kind).toContain('val output = Array(1) { FloatArray(labels.size) }');
      const python = pythonSnippet(snippet);
      expect(python, kind).toContain(`.resize((${SIZE}, ${SIZE}), Image.BILINEAR)`);
      expect(python, kind).toContain(uint8 ? 'dtype=np.uint8' : 'dtype=np.float32) * 0.00784313725490196 + -1.0');
    }
  });
});

describe('a MobileNetV1-0.25 classifier', () => {
  it('float32: the file gives the TF.js model\'s probabilities within 1e-4 on 100 validation photos', async () => {
    const { artifacts } = await readModelArtifacts(`${SHARED_DIR}models/mobilenet_v1_0.25_224`);
    const base = await loadBaseModel(artifacts, { bottleneck: 'conv_pw_13_relu', inputSize: SIZE });
    const head = buildHead(base.outputs[0].shape[3] as number, fixture.folder.classes.length, { ...DEFAULT_SETTINGS, hiddenUnits: 32 });
    const model = buildClassifier(base, head);
    const split = splitOf(fixture, SETTINGS);
    const pathOf = new Map(fixture.folder.images.map((i) => [i.id, i.path]));
    const pixels = await pixelsOf(split.validation.slice(0, 100).map((id) => pathOf.get(id)!), SIZE);
    const reference = tf.tidy(() => (model.predict(normalise(pixels, MOBILENET_PREPROCESSING)) as tf.Tensor).arraySync() as number[][]);
    const exported = await exportTflite(model, { kind: 'float32', labels: fixture.folder.classes, preprocessing: MOBILENET_PREPROCESSING });
    const run = await runtime.run(exported.file, fileInputs(pixels, 'float32'));
    expect(run.outputs).toHaveLength(100);
    expect(maxDifference(run.outputs, reference)).toBeLessThan(1e-4);
    pixels.dispose();
    releaseModels(model, head);
  }, 600_000);
});

describe('a layer the file cannot express', () => {
  it('is named in the error, and no file is made', async () => {
    const input = tfl.input({ shape: [32, 32, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'the_max_pool' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const attempt = exportTflite(model, { kind: 'float32', labels: ['a', 'b'], preprocessing: MOBILENET_PREPROCESSING });
    await expect(attempt).rejects.toThrow(FoldError);
    await expect(attempt).rejects.toThrow(/layer 'the_max_pool' \(MaxPooling2D\): this layer kind cannot be exported/);
    releaseModels(model);
  });

  it('a head whose output does not match the labels is refused', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    await expect(exportTflite(model, { kind: 'float32', labels: ['a', 'b'], preprocessing: MOBILENET_PREPROCESSING })).rejects.toThrow(
      /does not have one value per label \(2 labels\)/,
    );
    releaseModels(model);
  });
});
