/** Classification by the classifier in use: of any image (decoded here, never on the page) and of Live's camera frames. */
import * as tf from '@tensorflow/tfjs-core';
import { topClasses } from '../../../shared/classifier';
import type { ModelRecord } from '../../../shared/records';
import type { Classification, FrameClassification } from '../../../shared/trainer-messages';
import { bitmapPixels, decodeImage } from '../../engine/decode';
import type { FoldedGraph } from '../../engine/fold';
import type { RgbaPixels } from '../../engine/pixels';
import { normalise, resizeToSquare } from '../../engine/preprocess';
import { runFolded } from '../../engine/run-folded';
import { classifierInUse, foldedForLive } from './classifier-in-use';
import { loadedBase } from './loaded-base';

/**
 * The classifier's probability of each of its classes (in class order) for one image's pixels; `graph`: through
 * its folded op list instead of the layers model.
 */
function classProbabilities(pixels: RgbaPixels, record: ModelRecord, graph: FoldedGraph | null = null): Float32Array {
  const { model, inputSize } = classifierInUse();
  return tf.tidy(() => {
    const input = normalise(tf.expandDims(resizeToSquare(pixels, inputSize)), record.preprocessing) as tf.Tensor4D;
    return (graph ? runFolded(graph, input) : (model.predict(input) as tf.Tensor)).dataSync() as Float32Array;
  });
}

/** Top classes of any image. */
export async function classify(bytes: Blob, top = 3): Promise<Classification[]> {
  classifierInUse();
  const { record } = await loadedBase();
  const probabilities = classProbabilities(await decodeImage(bytes, classifierInUse().inputSize), record);
  return topClasses(classifierInUse().classes, probabilities, top);
}

/**
 * Every class's probability for one camera frame (Live), preprocessed as a photo is; the frame (transferred
 * here) is closed whatever happens.
 */
export async function classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
  const started = performance.now();
  const pixels = bitmapPixels(frame);
  classifierInUse();
  const { record } = await loadedBase();
  const probabilities = classProbabilities(pixels, record, foldedForLive());
  return { classes: classifierInUse().classes, probabilities, ms: performance.now() - started };
}
