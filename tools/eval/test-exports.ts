/**
 * `npm run eval`'s test: every image of the --test class folders classified in Node with each fold's float32 TF.js
 * model, and with the TFLite file when --export asked for one (run in LiteRT.js, headless Chromium).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfliteKind } from '../../shared/trainer-messages';
import { normalise } from '../../client/engine/preprocess';
import { MODEL_FILE } from '../../client/tflite/package';
import { useBackend } from '../measure/tf-node';
import { classifyFolder, loadExported, tfjsPredictor, type FolderResult, type Predictor } from '../measure/classify-folder';
import { openLiteRtBrowser, type LiteRtBrowser } from '../measure/litert-browser';
import { logLine } from '../measure/project';
import type { EvalTraining } from './train-in-page';

export interface EvalTests {
  /** Each fold's TF.js model on the test images. */
  tests: FolderResult[];
  /** What --export classified with (the first fold's model): the TFLite file, or the TF.js model again. */
  exportTest: FolderResult;
  exportBytes: number;
}

export async function testExports(testDir: string, { runs, tflite, tfliteKind }: EvalTraining): Promise<EvalTests> {
  const log = logLine;
  log(`classifying ${testDir} in Node`);
  await useBackend('wasm');
  const tests: FolderResult[] = [];
  let metadata;
  for (const { exported } of runs) {
    const classifier = await loadExported(exported.modelJson, exported.weightsBin);
    tests.push(await classifyFolder(testDir, classifier.metadata, tfjsPredictor(classifier), log));
    metadata ??= classifier.metadata;
    classifier.model.dispose();
  }
  const test = tests[0];
  const { exported } = runs[0];
  let exportTest = test;
  let exportBytes = new TextEncoder().encode(exported.modelJson).byteLength + exported.weightsBin.byteLength;
  if (tflite) {
    const file = tflite[MODEL_FILE];
    exportBytes = file.byteLength;
    log(`classifying ${testDir} with ${MODEL_FILE} in LiteRT.js (headless Chromium)`);
    const runtime = await openLiteRtBrowser();
    try {
      exportTest = await classifyFolder(testDir, metadata!, tflitePredictor(runtime, file, tfliteKind!, metadata!.preprocessing), log);
    } finally {
      await runtime.close();
    }
  }
  return { tests, exportTest, exportBytes };
}

/** A .tflite file in LiteRT.js as a predictor: float32 preprocessed input, or int8's uint8 pixels. */
function tflitePredictor(runtime: LiteRtBrowser, file: Uint8Array, kind: TfliteKind, preprocessing: { scale: number; offset: number }): Predictor {
  return async (pixels) => {
    const inputs = tf.tidy(() =>
      tf.unstack(kind === 'int8' ? tf.round(pixels) : normalise(pixels, preprocessing)).map((image) =>
        kind === 'int8' ? Uint8Array.from(image.dataSync()) : (image.dataSync() as Float32Array).slice(),
      ),
    );
    const { outputs, msPerImage } = await runtime.run(file, inputs);
    return { top1: outputs.map((o) => o.indexOf(Math.max(...o))), ms: msPerImage * inputs.length };
  };
}
