/**
 * The TFLite download: one .zip with model.tflite, labels.txt and a README (input size and type, preprocessing,
 * output, Kotlin and Python code). Pure bytes; no DOM, no tfjs.
 */
import { strToU8, zipSync } from 'fflate';
import { LABELS_FILE, labelsText } from './metadata';
import { tfliteReadme, type TfliteSnippetInput } from './snippets';

export const MODEL_FILE = 'model.tflite';

export function tfliteZip(file: Uint8Array, input: TfliteSnippetInput): Uint8Array {
  return zipSync({
    // The model is already dense (weights, mostly incompressible): stored, so it unzips byte for byte fast.
    [MODEL_FILE]: [file, { level: 0 }],
    [LABELS_FILE]: strToU8(labelsText(input.labels)),
    'README.md': strToU8(tfliteReadme(input)),
  });
}
