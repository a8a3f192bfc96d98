/**
 * A TFLite download the page may offer: the trainer worker writes the file (int8: calibrated on training images),
 * a LiteRT.js worker runs it on the held-out images, and only a file that runs, has the input and output its
 * README describes and is about as accurate as the TF.js model (tflite/verdict.ts) is zipped (model.tflite,
 * labels.txt, README.md). Images come from the dataset the classifier was trained on; nothing leaves the visitor's
 * computer. A build whose signal aborts stops (its LiteRT.js check worker ends) and rejects with the reason.
 */
import * as Comlink from 'comlink';
import type { ModelRecord } from '../../shared/records';
import type { TfliteKind } from '../../shared/trainer-messages';
import type { TrainWorkerApi } from '../trainer/worker/train.worker';
import type { CheckWorkerApi } from '../tflite/check.worker';
import { tfliteZip } from '../tflite/package';
import { checkFailure, type CheckedTflite } from '../tflite/verdict';
import { SupervisedWorker } from '../engine/supervised-worker';
import type { DatasetChoice } from './dataset-source';

/** The trainer calls an export makes (the trainer client routes them to its worker). */
export interface TfliteTrainer {
  tfliteImageIds(): Promise<Awaited<ReturnType<TrainWorkerApi['tfliteImageIds']>>>;
  exportTflite(...args: Parameters<TrainWorkerApi['exportTflite']>): Promise<Awaited<ReturnType<TrainWorkerApi['exportTflite']>>>;
}

export async function checkedTflite(
  trainer: TfliteTrainer,
  dataset: DatasetChoice | null,
  model: ModelRecord,
  kind: TfliteKind,
  signal: AbortSignal,
): Promise<CheckedTflite> {
  const ids = await trainer.tfliteImageIds();
  if (!ids) throw new Error('this classifier\'s training split is no longer stored on this browser: train it again to export TFLite');
  const byId = new Map(dataset?.images.map((image) => [image.imageId, image]) ?? []);
  if (!dataset || [...ids.calibration, ...ids.check].some((id) => !byId.has(id))) {
    throw new Error('choose the dataset this classifier was trained on first: its images calibrate and check the TFLite file');
  }
  const bytesOf = (list: string[]) => Promise.all(list.map((id) => byId.get(id)!.bytes()));
  const prepared = await trainer.exportTflite(kind, kind === 'int8' ? await bytesOf(ids.calibration) : [], {
    images: await bytesOf(ids.check),
    labels: ids.check.map((id) => dataset.classes.indexOf(byId.get(id)!.class)),
  });
  signal.throwIfAborted();
  const { signature, file } = prepared;
  const outcome = { kind, signature, fileBytes: file.byteLength, file, labels: prepared.labels, tfjsMsPerImage: prepared.check.tfjsMsPerImage };
  const checker = new SupervisedWorker<CheckWorkerApi>({
    name: 'the LiteRT.js check',
    // A classic worker: LiteRT.js loads its wasm script with importScripts().
    spawn: () => new Worker(new URL('../tflite/check.worker.ts', import.meta.url), { name: 'graft-tflite-check' }),
  });
  try {
    const copy = file.slice();
    const { inputs, count, labels, tfjsTop1 } = prepared.check;
    const request = { file: copy, inputs, inputType: signature.input.type, count, classes: prepared.labels.length, labels, tfjsTop1 };
    const result = await checker.call(signal, (remote) => remote.check(Comlink.transfer(request, [copy.buffer, inputs])));
    const tfjsAccuracy = tfjsTop1.filter((top1, i) => top1 === labels[i]).length / Math.max(1, labels.length);
    const failure = checkFailure(result, signature, prepared.labels.length, tfjsAccuracy, labels.length);
    const zip = failure ? null : tfliteZip(file, { kind, signature, preprocessing: model.preprocessing, labels: prepared.labels });
    return { ...outcome, check: result, zip, failure };
  } catch (error) {
    // Stopped (a new run started): no verdict, the caller drops it.
    signal.throwIfAborted();
    return { ...outcome, check: null, zip: null, failure: `LiteRT.js could not run it: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    checker.terminate('checked');
  }
}
