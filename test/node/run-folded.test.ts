/**
 * Live runs the classifier folded into a plain op list (client/engine/fold-model.ts, run by run-folded.ts) because it is
 * faster per frame; what the visitor sees must not change with it: on real flower photos the folded classifier
 * gives the layers model's probabilities (what "classify a photo" shows) and the same top class. The classifier is
 * the real MobileNetV2-0.35 base, loaded as the trainer worker loads it, with a head of a hidden layer and dropout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { buildClassifier } from '../../client/trainer/export';
import { foldModel } from '../../client/engine/fold-model';
import { buildHead } from '../../client/trainer/head';
import { releaseModels } from '../../client/engine/release';
import { runFolded } from '../../client/engine/run-folded';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { decodeFile } from '../../tools/measure/decode-file';
import { FLOWERS_DIR, MOBILENET_PREPROCESSING, listClassFolder } from '../support/node-features';
import { useBackend } from '../../tools/measure/tf-node';
import { loadFlowersBase } from '../support/trainer-fixtures';

const SIZE = 160;
const PER_CLASS = 2;

let classifier: tfl.LayersModel;
let inputs: tf.Tensor4D;

beforeAll(async () => {
  await useBackend('wasm');
  const base = await loadFlowersBase(SIZE);
  const { images: files, classes } = await listClassFolder(FLOWERS_DIR, { perClass: PER_CLASS });
  classifier = buildClassifier(base, buildHead(base.outputs[0].shape[3] as number, classes.length, { ...DEFAULT_SETTINGS, hiddenUnits: 32, dropout: 0.3 }));
  const images = await Promise.all(files.map(async (f) => resizeToSquare(await decodeFile(f.path), SIZE)));
  inputs = tf.tidy(() => normalise(tf.stack(images), MOBILENET_PREPROCESSING) as tf.Tensor4D);
  tf.dispose(images);
});

afterAll(() => {
  if (classifier) releaseModels(classifier);
  inputs?.dispose();
});

it("gives the layers model's probabilities and top class on real photos", () => {
  const expected = tf.tidy(() => (classifier.predict(inputs) as tf.Tensor).arraySync() as number[][]);
  const graph = foldModel(classifier);
  for (let i = 0; i < expected.length; i++) {
    // One image at a time, as Live sends frames.
    const folded = tf.tidy(() => runFolded(graph, tf.slice(inputs, [i, 0, 0, 0], [1, SIZE, SIZE, 3])).arraySync() as number[][]);
    const difference = Math.max(...folded[0].map((p, c) => Math.abs(p - expected[i][c])));
    expect(difference).toBeLessThan(1e-4);
    expect(folded[0].indexOf(Math.max(...folded[0]))).toBe(expected[i].indexOf(Math.max(...expected[i])));
  }
  // Not a trivial agreement: the untrained head's answers differ from image to image.
  const spread = Math.max(...expected.map((p) => Math.max(...p) - Math.min(...p)));
  expect(spread).toBeGreaterThan(0.05);
});
