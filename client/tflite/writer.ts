/**
 * Writes a folded classifier graph (client/engine/fold.ts) as a .tflite file: one subgraph, input [1, S, S, 3],
 * output [1, classes] float32 softmax probabilities, with labels in its metadata and a zip of labels.txt appended.
 * Three kinds:
 * - float32: exact weights; input float32, already preprocessed (x * scale + offset).
 * - float16: every weight stored float16 and turned back to float32 by a DEQUANTIZE op; same input.
 * - int8: full-integer (quantize.ts): int8 weights (per channel for conv and depthwise filters), int8
 *   activations with ranges calibrated on real images, int32 biases. The input is uint8 pixels 0..255 with the
 *   preprocessing folded into its quantization (what Android camera code has: bytes of an RGB bitmap), QUANTIZE'd
 *   to int8; the int8 softmax is DEQUANTIZE'd to float32 so every kind has the same output.
 * No DOM, no tfjs.
 */
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import type { FoldedGraph } from '../engine/fold';
import type { TensorRanges } from '../engine/run-folded';
import { TfliteGraph, writeOp } from './graph-writer';
import { appendLabelsZip, buildMetadata } from './metadata';
import { activationQuantization, uint8InputQuantization } from './quantize';
import * as schema from './schema';
import { BuiltinOperator, BuiltinOptions, TensorType, type Quantization, type TensorTypeValue } from './schema';

export const TFLITE_KINDS: readonly TfliteKind[] = ['float32', 'float16', 'int8'];

export interface TfliteOptions {
  kind: TfliteKind;
  labels: readonly string[];
  /** The model's preprocessing: input value = pixel * scale + offset. */
  preprocessing: { scale: number; offset: number };
  /** Activation ranges from calibration (run-folded.ts); int8 only. */
  ranges?: TensorRanges;
  name?: string;
}

export function signatureOf(graph: FoldedGraph, options: Pick<TfliteOptions, 'kind' | 'preprocessing'>): TfliteSignature {
  const input = graph.tensors[graph.input].shape;
  const output = graph.tensors[graph.output].shape;
  if (options.kind !== 'int8') return { input: { shape: input, type: 'float32', quantization: null }, output: { shape: output, type: 'float32' } };
  const q = uint8InputQuantization(options.preprocessing);
  return { input: { shape: input, type: 'uint8', quantization: { scale: q.scale[0], zeroPoint: q.zeroPoint[0] } }, output: { shape: output, type: 'float32' } };
}

/** Writes the graph as a .tflite file of `options.kind` (int8 needs `options.ranges`). */
export function writeTflite(graph: FoldedGraph, options: TfliteOptions): Uint8Array {
  const { kind } = options;
  const classes = graph.tensors[graph.output].shape;
  if (classes.length !== 2 || classes[1] !== options.labels.length) {
    throw new Error(`the model's output ${JSON.stringify(classes)} does not have one value per label (${options.labels.length} labels)`);
  }
  const last = graph.ops.at(-1);
  if (last?.kind !== 'softmax' || last.output !== graph.output) throw new Error('the model must end in a softmax (class probabilities)');
  if (kind === 'int8' && !options.ranges) throw new Error('int8 needs activation ranges from calibration images');

  const g = new TfliteGraph(kind);
  const quantizationOf = (index: number): Quantization | undefined => {
    if (kind !== 'int8') return undefined;
    const range = options.ranges![index];
    if (!range) throw new Error(`calibration saw no values of '${graph.tensors[index].name}'`);
    return activationQuantization(range.min, range.max);
  };
  const activationType: TensorTypeValue = kind === 'int8' ? TensorType.INT8 : TensorType.FLOAT32;
  /** Graph tensor index -> TFLite tensor index. */
  const mapped = new Map<number, number>();
  const tfliteOf = (index: number) => mapped.get(index)!;
  const declare = (index: number, quantization?: Quantization): number => {
    const t = graph.tensors[index];
    const id = g.addTensor({ name: t.name, shape: t.shape, type: activationType, quantization });
    mapped.set(index, id);
    return id;
  };

  // Input.
  const inputTensor = graph.tensors[graph.input];
  let modelInput: number;
  if (kind === 'int8') {
    const q = uint8InputQuantization(options.preprocessing);
    modelInput = g.addTensor({ name: 'image', shape: inputTensor.shape, type: TensorType.UINT8, quantization: q });
    // Same scale, zero point moved by 128: an exact requantization of the bytes.
    const inner = declare(graph.input, { scale: q.scale, zeroPoint: [q.zeroPoint[0] - 128] });
    g.addOp(BuiltinOperator.QUANTIZE, [modelInput], [inner], (b) => schema.emptyOptions(b, BuiltinOptions.QuantizeOptions));
  } else {
    modelInput = g.addTensor({ name: 'image', shape: inputTensor.shape, type: TensorType.FLOAT32 });
    mapped.set(graph.input, modelInput);
  }

  for (const op of graph.ops) writeOp(g, graph, op, { kind, quantizationOf, declare, tfliteOf });

  // Output: float32 probabilities for every kind.
  let modelOutput = tfliteOf(graph.output);
  if (kind === 'int8') {
    const probabilities = g.addTensor({ name: 'probabilities', shape: classes, type: TensorType.FLOAT32 });
    g.addOp(BuiltinOperator.DEQUANTIZE, [modelOutput], [probabilities], (b) => schema.emptyOptions(b, BuiltinOptions.DequantizeOptions));
    modelOutput = probabilities;
  }

  const size = inputTensor.shape[1];
  const { scale, offset } = options.preprocessing;
  const metadata = buildMetadata({
    name: options.name ?? 'Graft image classifier',
    description: `Image classifier trained in the browser with Graft (${kind}); ${options.labels.length} classes.`,
    inputSize: size,
    // For uint8 input the bytes go in as they are: the model's input quantization does the scaling.
    normalization: kind === 'int8' ? { mean: 0, std: 1 } : { mean: -offset / scale, std: 1 / scale },
    inputDescription:
      kind === 'int8'
        ? `RGB image ${size}x${size}, uint8 pixels 0..255 (the scaling is inside the model).`
        : `RGB image ${size}x${size}, float32 pixels scaled as x * ${scale} + ${offset}.`,
    outputDescription: 'Probability of each class, in the order of labels.txt (float32, sums to 1).',
  });
  const model = g.finish({ inputs: [['image', modelInput]], outputs: [['probabilities', modelOutput]] }, `Graft image classifier (${kind})`, metadata);
  return appendLabelsZip(model, options.labels);
}
