/**
 * A publishable classifier without training one: real .tflite files written by Graft's own TFLite writer from a
 * small graph (the mean of the image, a dense layer, softmax: the export's file layout and signature), and a
 * model card. No tfjs, no DOM: the worker tests (workerd) and the Node tests both use it.
 */
import type { FoldedGraph } from '../../client/engine/fold';
import { signatureOf, writeTflite } from '../../client/tflite/writer';
import type { ModelCard } from '../../shared/model-card';
import type { TfliteKind } from '../../shared/trainer-messages';

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

/** A real .tflite file of `kind` (int8 with made-up activation ranges), and its signature. */
export function smallTflite(kind: TfliteKind) {
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

