/**
 * The LiteRT.js classifier worker: a trained classifier's .tflite file (the export's: float32, float16 or int8),
 * compiled once (client/engine/litert.ts, wasm, one thread), answering "classify a photo" and Live's frames with
 * every class's probability. No tfjs and no training code: decoding is engine/decode.ts (header checks first),
 * preprocessing engine/pixels.ts, the same arithmetic as the trainer's tfjs preprocessing. A module worker;
 * the pages reach it through ./litert-classifier.ts.
 */
import * as Comlink from 'comlink';
import type { ClassifierInit, ClassifierReport } from '../../shared/classifier';
import type { FrameClassification } from '../../shared/trainer-messages';
import { bitmapPixels, decodeImage } from '../engine/decode';
import { LiteRtError, LiteRtModel, loadLiteRtOnce, type InputTensor } from '../engine/litert';
import { roundedPixels, scaledInput, squareRgb, type RgbaPixels } from '../engine/pixels';

interface Loaded {
  model: LiteRtModel;
  /** The start's init (its file dropped: the compiled model holds it). */
  init: ClassifierInit;
  input: { name: string; shape: number[] };
  output: string;
  inputSize: number;
}

let loaded: Loaded | null = null;

/** Why `model` is not the classifier `init` describes (input [1, S, S, 3] of its type, output [1, classes]), or null. */
function signatureProblem(model: LiteRtModel, init: ClassifierInit): string | null {
  const { inputs, outputs } = model.signature();
  if (inputs.length !== 1 || outputs.length !== 1) return `it has ${inputs.length} inputs and ${outputs.length} outputs, not one of each`;
  const [input] = inputs;
  const [, height, width, channels] = input.shape;
  if (input.shape.length !== 4 || input.shape[0] !== 1 || height !== width || channels !== 3) return `its input is ${JSON.stringify(input.shape)}, not one square RGB image`;
  if (input.dtype !== init.inputType) return `it takes ${input.dtype} input, not ${init.inputType}`;
  const shape = JSON.stringify(outputs[0].shape);
  if (shape !== JSON.stringify([1, init.classes.length])) return `its output is ${shape}, not one probability for each of ${init.classes.length} classes`;
  return null;
}

/** The model's input for decoded pixels: resized, then scaled (float file) or rounded to bytes (int8 file). */
function valuesOf(pixels: RgbaPixels): InputTensor['values'] {
  const { inputSize, init } = loaded!;
  const rgb = squareRgb(pixels, inputSize);
  return init.inputType === 'uint8' ? roundedPixels(rgb) : scaledInput(rgb, init.preprocessing);
}

/** Runs the model on one image's input: every class's probability, with the milliseconds since `started`. */
async function classifyValues(values: InputTensor['values'], started: number): Promise<FrameClassification> {
  const { model, input, output, init } = loaded!;
  const result = await model.run({ [input.name]: { values, shape: input.shape } });
  return { classes: init.classes, probabilities: result[output], ms: performance.now() - started };
}

const api = {
  /** Compiles `init.file` (replacing the classifier this worker had) after loading LiteRT.js once. */
  async start(init: ClassifierInit): Promise<ClassifierReport> {
    const started = performance.now();
    const runtime = await loadLiteRtOnce({ threads: false, relaxedSimd: true });
    const model = await LiteRtModel.compile(init.file, 'wasm');
    const problem = signatureProblem(model, init);
    if (problem) {
      model.delete();
      throw new LiteRtError('compile', `the file is not a classifier of these ${init.classes.length} classes: ${problem}`);
    }
    const { inputs, outputs } = model.signature();
    loaded?.model.delete();
    loaded = { model, init: { ...init, file: new Uint8Array(0) }, input: { name: inputs[0].name, shape: inputs[0].shape }, output: outputs[0].name, inputSize: inputs[0].shape[1] };
    return { kind: init.kind, build: runtime.build, inputSize: loaded.inputSize, startMs: performance.now() - started };
  },

  /** Every class's probability for an image file (decoded here, its header checked first). */
  async classify(bytes: Blob): Promise<FrameClassification> {
    if (!loaded) throw new Error('no classifier was started in this worker');
    const pixels = await decodeImage(bytes, loaded.inputSize);
    const started = performance.now();
    return classifyValues(valuesOf(pixels), started);
  },

  /** Every class's probability for one camera frame (transferred here and closed, whatever happens). */
  async classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
    const started = performance.now();
    const pixels = bitmapPixels(frame);
    if (!loaded) throw new Error('no classifier was started in this worker');
    const answer = await classifyValues(valuesOf(pixels), started);
    return Comlink.transfer(answer, [answer.probabilities.buffer]);
  },
};

export type ClassifierWorkerApi = typeof api;
Comlink.expose(api);
