/**
 * The plain-data protocol of the LiteRT.js classifier worker (client/classifier/classify.worker.ts, whose comlink
 * API the pages import as a type only), and the top classes both engines of "classify a photo" report.
 */
import type { Classification, TfliteKind } from './trainer-messages';

/** What the LiteRT.js classifier worker is started with. */
export interface ClassifierInit {
  /** The .tflite classifier as the export writes it: input [1, S, S, 3], output [1, classes] probabilities. */
  file: Uint8Array;
  kind: TfliteKind;
  classes: string[];
  /** float32: pixels * scale + offset; uint8: the pixel bytes (the int8 file, whose input quantization scales). */
  inputType: 'float32' | 'uint8';
  preprocessing: { scale: number; offset: number };
}

/** What the classifier worker runs on, once its file compiled. */
export interface ClassifierReport {
  kind: TfliteKind;
  /** LiteRT.js's wasm build: relaxed SIMD where the browser has it, else the compat (SIMD) build; one thread. */
  build: 'relaxed-simd' | 'threaded' | 'compat';
  inputSize: number;
  /** Loading LiteRT.js (when this start loaded it) and compiling the file. */
  startMs: number;
}

/** The `top` most likely classes of a classifier's probabilities, most likely first. */
export function topClasses(classes: readonly string[], probabilities: ArrayLike<number>, top = 3): Classification[] {
  return Array.from(probabilities, (probability, classIndex) => ({ classIndex, className: classes[classIndex], probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, top);
}
