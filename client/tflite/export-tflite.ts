/**
 * The trained classifier (a tfjs LayersModel: base + pooling + head) as a .tflite file of one kind: folds it
 * (client/engine/fold-model.ts), for int8 calibrates the activation ranges by running the float graph on the visitor's
 * own images, and writes the file. A layer the file cannot express fails here, before any byte is written.
 * Plain tfjs; runs in the trainer's worker and in Node.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { FoldedGraph } from '../engine/fold';
import { foldModel } from '../engine/fold-model';
import { runFolded, type TensorRanges } from '../engine/run-folded';
import { signatureOf, writeTflite } from './writer';
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';

export interface TfliteExport {
  kind: TfliteKind;
  file: Uint8Array;
  signature: TfliteSignature;
  labels: string[];
}

export interface TfliteExportOptions {
  kind: TfliteKind;
  labels: string[];
  preprocessing: { scale: number; offset: number };
  /**
   * int8 only: batches of preprocessed training images [n, S, S, 3] (a few hundred images in all), each disposed
   * by the caller. The float graph runs on them to find every activation's range.
   */
  calibration?: AsyncIterable<tf.Tensor4D> | Iterable<tf.Tensor4D>;
}

/** Activation ranges of the float graph over the calibration batches. */
export async function calibrate(graph: FoldedGraph, batches: AsyncIterable<tf.Tensor4D> | Iterable<tf.Tensor4D>): Promise<TensorRanges> {
  const ranges: TensorRanges = [];
  let images = 0;
  for await (const batch of batches) {
    runFolded(graph, batch, ranges).dispose();
    images += batch.shape[0];
  }
  if (images === 0) throw new Error('int8 calibration needs at least one image');
  return ranges;
}

export async function exportTflite(model: tfl.LayersModel, options: TfliteExportOptions): Promise<TfliteExport> {
  const graph = foldModel(model);
  let ranges: TensorRanges | undefined;
  if (options.kind === 'int8') {
    if (!options.calibration) throw new Error('an int8 export needs calibration images');
    ranges = await calibrate(graph, options.calibration);
  }
  const file = writeTflite(graph, { kind: options.kind, labels: options.labels, preprocessing: options.preprocessing, ranges });
  return { kind: options.kind, file, signature: signatureOf(graph, options), labels: [...options.labels] };
}
