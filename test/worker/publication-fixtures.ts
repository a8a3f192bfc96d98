/**
 * A publishable classifier for the publication tests: real .tflite files written by Graft's own TFLite writer
 * (a small graph: the mean of the image, a dense layer, softmax; the same file layout as the export's), labels,
 * a model card, and the real cat and dog photos as examples. Built through the page's client module.
 */
import { env } from 'cloudflare:workers';
import type { FoldedGraph } from '../../client/engine/fold';
import { buildPublication, publicationsApi, type PublishInput } from '../../client/api/publications';
import { signatureOf, writeTflite } from '../../client/tflite/writer';
import type { ModelCard } from '../../shared/model-card';
import type { TfliteKind } from '../../shared/trainer-messages';
import { app } from '../../worker/index';
import { ADMIN, bytesOf } from './api';
import cat102 from '../../../shared/datasets/cats_vs_dogs/cats/cat.102.jpg?url&inline';
import dog0 from '../../../shared/datasets/cats_vs_dogs/dogs/dog.0.jpg?url&inline';

export const CLASSES = ['cats', 'dogs'];
const INPUT_SIZE = 224;
const PREPROCESSING = { scale: 1 / 127.5, offset: -1 };

/** input [1, S, S, 3] -> mean [1, 3] -> dense [1, 2] -> softmax [1, 2]. */
function smallGraph(): FoldedGraph {
  return {
    tensors: [
      { name: 'input', shape: [1, INPUT_SIZE, INPUT_SIZE, 3] },
      { name: 'pool', shape: [1, 3] },
      { name: 'dense', shape: [1, CLASSES.length] },
      { name: 'softmax', shape: [1, CLASSES.length] },
    ],
    input: 0,
    output: 3,
    outputs: [3],
    ops: [
      { kind: 'mean', inputs: [0], output: 1, layers: ['pool'] },
      {
        kind: 'dense',
        inputs: [1],
        output: 2,
        layers: ['dense'],
        kernel: { shape: [3, 2], values: new Float32Array([0.5, -0.5, 0.25, -0.25, 1, -1]) },
        bias: new Float32Array([0.1, -0.1]),
        activation: 'none',
      },
      { kind: 'softmax', inputs: [2], output: 3, layers: ['softmax'] },
    ],
  };
}

function tflite(kind: TfliteKind) {
  const graph = smallGraph();
  const options = { kind, labels: CLASSES, preprocessing: PREPROCESSING };
  const ranges = kind === 'int8' ? [{ min: -1, max: 1 }, { min: -1, max: 1 }, { min: -3, max: 3 }, { min: 0, max: 1 }] : undefined;
  return { kind, file: writeTflite(graph, { ...options, ranges }), signature: signatureOf(graph, options) };
}

export const CARD: ModelCard = {
  classes: CLASSES,
  base: { id: 'mobilenet_v2_0.35_224_no_top', name: 'MobileNetV2 0.35 (no top)', inputSize: INPUT_SIZE },
  preprocessing: PREPROCESSING,
  dataset: { name: 'Cats vs dogs', imageCounts: [140, 140] },
  stages: [
    { stage: 'head', epochs: 10, valAccuracy: 0.95 },
    { stage: 'fine-tune', epochs: 6, valAccuracy: 0.975 },
  ],
  evaluation: { split: 'validation', accuracy: 0.975, perClassAccuracy: [1, 0.95], confusion: [[20, 0], [1, 19]] },
  trainedAt: '2026-05-01T10:00:00.000Z',
  graftVersion: '0.1.0',
};

export async function examplePhotos() {
  return [
    { class: 'cats', jpeg: await bytesOf(cat102) },
    { class: 'dogs', jpeg: await bytesOf(dog0) },
  ];
}

/** A full publication: int8 (which the page runs) and float32 models, labels, and two example photos. */
export async function publishInput(overrides: Partial<PublishInput> = {}): Promise<PublishInput> {
  return {
    name: 'Cats or dogs?',
    description: 'Point the camera at a pet.\nTrained in Graft.',
    card: CARD,
    models: [tflite('int8'), tflite('float32')],
    runs: 'int8',
    examples: await examplePhotos(),
    ...overrides,
  };
}

/** The client module talking to the Worker in this isolate, with these bindings. */
export function clientOf(bindings: object = env) {
  return publicationsApi({ origin: 'http://graft.test', fetch: (input, init) => Promise.resolve(app.request(String(input), init, bindings)) });
}

/** POST /api/publications with this multipart body (and headers), as a test wants it sent. */
export function postPublication(form: FormData | BodyInit, headers: Record<string, string> = {}, bindings: object = env) {
  return app.request('/api/publications', { method: 'POST', body: form, headers }, bindings);
}

/** The manifest and form of the default publication, for tests that then spoil one part. */
export async function builtPublication(overrides: Partial<PublishInput> = {}) {
  return buildPublication(await publishInput(overrides));
}

/** The bindings with publishing open (PUBLISH=open), optionally with another TTL. */
export const openEnv = (vars: Record<string, string> = {}) => ({ ...env, PUBLISH: 'open', ...vars });

export { ADMIN };
