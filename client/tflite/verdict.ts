/**
 * Whether a .tflite file the page built may be offered, from what LiteRT.js measured running it on the held-out
 * images (check.worker.ts): its input and output must be what its README says, and its accuracy about the TF.js
 * model's. Pure: the page (tflite-export.ts) and its view read it.
 */
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import type { CheckResult } from './check.worker';

/**
 * A file whose accuracy on the held-out images is more than this below the TF.js model's is not offered; on a
 * small held-out set at least MAX_IMAGES_LOST images must be lost (one image of 18 is already 5.6 points).
 */
export const MAX_ACCURACY_LOSS = 0.05;
export const MAX_IMAGES_LOST = 2;

export interface CheckedTflite {
  kind: TfliteKind;
  signature: TfliteSignature;
  /** Bytes of model.tflite. */
  fileBytes: number;
  /** model.tflite itself, and its labels. */
  file: Uint8Array;
  labels: string[];
  /** What LiteRT.js measured, when the file ran. */
  check: CheckResult | null;
  /** The TF.js model's own time per image on the same images, one at a time, in the trainer worker. */
  tfjsMsPerImage: number;
  /** The download, when the check passed (a publication uploads its file then); otherwise null and `failure` says why. */
  zip: Uint8Array | null;
  failure: string | null;
}

/**
 * Least share of the held-out images on which an int8 file's top-1 must equal the TF.js model's for a page to run
 * it instead of the float32 file (issue 20): at 99% a visitor will hardly ever see the two disagree.
 */
export const RUN_INT8_MIN_AGREEMENT = 0.99;

/** The file a page runs: the int8 one where it passed its check and agrees this closely with TF.js, else float32. */
export function runnableKind(int8: CheckedTflite | null): 'int8' | 'float32' {
  return int8?.zip && int8.check && int8.check.agreement >= RUN_INT8_MIN_AGREEMENT ? 'int8' : 'float32';
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Why a checked file must not be offered, or null. */
export function checkFailure(result: CheckResult, signature: TfliteSignature, classes: number, tfjsAccuracy: number, images: number): string | null {
  if (result.input.dtype !== signature.input.type || !sameShape(result.input.shape, signature.input.shape)) {
    return `LiteRT reads a ${result.input.dtype} ${JSON.stringify(result.input.shape)} input, the README says ${signature.input.type} ${JSON.stringify(signature.input.shape)}`;
  }
  if (result.output.dtype !== 'float32' || !sameShape(result.output.shape, [1, classes])) {
    return `LiteRT gives a ${result.output.dtype} ${JSON.stringify(result.output.shape)} output for ${classes} labels`;
  }
  const imagesLost = Math.round((tfjsAccuracy - result.accuracy) * images);
  if (result.accuracy < tfjsAccuracy - MAX_ACCURACY_LOSS && imagesLost > MAX_IMAGES_LOST) {
    return `its accuracy on the held-out images (${(result.accuracy * 100).toFixed(1)}%) is more than ${MAX_ACCURACY_LOSS * 100} points below the TF.js model's (${(tfjsAccuracy * 100).toFixed(1)}%)`;
  }
  return null;
}
