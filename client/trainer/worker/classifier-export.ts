/**
 * The classifier in use as files to take away: a TF.js layers model (float32 or quantized), or a .tflite file
 * prepared with the images the page checks it on. Owns the TFLite export's stop controller.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import type { PreparedTflite, TfliteKind, WeightQuantization } from '../../../shared/trainer-messages';
import { decodeImage } from '../../engine/decode';
import { roundedPixels } from '../../engine/pixels';
import { normalise, resizeToSquare } from '../../engine/preprocess';
import { exportTflite } from '../../tflite/export-tflite';
import { exportLayersModel } from '../export';
import { classifierInUse } from './classifier-in-use';
import { loadedBase } from './loaded-base';

/** Training images an int8 export calibrates on (spread evenly over the training split). */
const CALIBRATION_IMAGES = 300;

/** The TFLite export in progress: stopTfliteExport() ends it at its next image (a new run must not wait for it). */
let tfliteStopper: AbortController | null = null;

/** The trained classifier as the file pair model.json + weights.bin, float32 or quantized. */
export async function exportClassifier(quantization: WeightQuantization): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
  classifierInUse();
  const { record } = await loadedBase();
  const { model, classes, inputSize } = classifierInUse();
  const { modelJson, weightsBin } = await exportLayersModel(model, { classes, inputSize, preprocessing: record.preprocessing }, quantization);
  return Comlink.transfer({ modelJson, weightsBin }, [weightsBin]);
}

/**
 * Which images a TFLite export needs: training images to calibrate int8 on and the held-out images (test, else
 * validation) every file is checked on. Null when the classifier's split is unknown.
 */
export function tfliteImageIds(): { calibration: string[]; check: string[] } | null {
  const { split } = classifierInUse();
  if (!split) return null;
  const step = Math.max(1, split.train.length / CALIBRATION_IMAGES);
  const calibration = Array.from({ length: Math.min(CALIBRATION_IMAGES, split.train.length) }, (_, i) => split.train[Math.floor(i * step)]);
  return { calibration, check: split.test.length > 0 ? split.test : split.validation };
}

/**
 * The trained classifier as a .tflite file of `kind` (int8: calibrated on `calibration`, decoded here), with the
 * `check` images prepared as the file takes them (float32 preprocessed, or uint8 pixels) and the TF.js model's
 * top-1 on each.
 */
export async function prepareTflite(kind: TfliteKind, calibration: Blob[], check: { images: Blob[]; labels: number[] }): Promise<PreparedTflite> {
  // Before any await: a stopTfliteExport() posted right after this call must find this export's controller.
  const { signal } = (tfliteStopper = new AbortController());
  classifierInUse();
  const { record } = await loadedBase();
  const { model, classes, inputSize } = classifierInUse();
  const pixelsOf = async (bytes: Blob) => resizeToSquare(await decodeImage(bytes, inputSize), inputSize);
  async function* calibrationBatches() {
    for (let i = 0; i < calibration.length; i += 16) {
      signal.throwIfAborted();
      const pixels = await Promise.all(calibration.slice(i, i + 16).map(pixelsOf));
      const batch = tf.tidy(() => normalise(tf.stack(pixels), record.preprocessing) as tf.Tensor4D);
      tf.dispose(pixels);
      yield batch;
      batch.dispose();
    }
  }
  const exported = await exportTflite(model, {
    kind,
    labels: classes,
    preprocessing: record.preprocessing,
    calibration: kind === 'int8' ? calibrationBatches() : undefined,
  });
  signal.throwIfAborted();
  const uint8 = exported.signature.input.type === 'uint8';
  const per = inputSize * inputSize * 3;
  const inputs = uint8 ? new Uint8Array(per * check.images.length) : new Float32Array(per * check.images.length);
  const tfjsTop1: number[] = [];
  let tfjsMs = 0;
  for (let i = 0; i < check.images.length; i++) {
    signal.throwIfAborted();
    const pixels = await pixelsOf(check.images[i]);
    const [values, top1, ms] = tf.tidy(() => {
      const input = normalise(tf.expandDims(pixels), record.preprocessing);
      const start = performance.now();
      const top = (tf.argMax(model.predict(input) as tf.Tensor, 1).dataSync() as Int32Array)[0];
      const took = performance.now() - start;
      // Android hands the model bytes: the int8 file is checked on the rounded pixels, as the classifier rounds them.
      return [uint8 ? roundedPixels(pixels.dataSync()) : input.dataSync(), top, took] as const;
    });
    pixels.dispose();
    inputs.set(values, i * per);
    tfjsTop1.push(top1);
    tfjsMs += ms;
  }
  const result: PreparedTflite = {
    kind,
    file: exported.file,
    signature: exported.signature,
    labels: exported.labels,
    check: { inputs: inputs.buffer as ArrayBuffer, count: check.images.length, labels: check.labels, tfjsTop1, tfjsMsPerImage: tfjsMs / Math.max(1, check.images.length) },
  };
  return Comlink.transfer(result, [exported.file.buffer as ArrayBuffer, result.check.inputs]);
}

/** Stops the TFLite export in progress at its next image: it rejects with the reason, and nothing of it is kept. */
export function stopTfliteExport(): void {
  tfliteStopper?.abort(new Error('the TFLite build was stopped'));
}
