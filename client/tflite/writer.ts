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
import * as flatbuffers from 'flatbuffers';
import { toFloat16 } from '../../shared/float16';
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import type { ConvOp, DenseOp, FoldedGraph, FoldedOp, FusedActivation } from '../engine/fold';
import type { TensorRanges } from '../engine/run-folded';
import { METADATA_BUFFER_NAME, appendLabelsZip, buildMetadata } from './metadata';
import { SOFTMAX_INT8_OUTPUT, activationQuantization, quantizeBias, quantizeSymmetric, uint8InputQuantization } from './quantize';
import * as schema from './schema';
import {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptions,
  Padding,
  TensorType,
  type BuiltinOperatorValue,
  type Quantization,
  type TensorSpec,
  type TensorTypeValue,
} from './schema';

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

/** Op versions as TFLite's converter sets them (lite/tools/versioning/op_version.cc) for the types used here. */
function opVersion(code: BuiltinOperatorValue, kind: TfliteKind): number {
  if (kind !== 'int8') return code === BuiltinOperator.DEQUANTIZE ? 3 : 1;
  switch (code) {
    case BuiltinOperator.CONV_2D:
    case BuiltinOperator.DEPTHWISE_CONV_2D:
      return 3;
    case BuiltinOperator.FULLY_CONNECTED:
      return 4;
    default:
      return 2;
  }
}

function activationCode(activation: FusedActivation): schema.ActivationValue {
  return activation === 'relu6' ? ActivationFunctionType.RELU6 : activation === 'relu' ? ActivationFunctionType.RELU : ActivationFunctionType.NONE;
}

function bytesOf(array: Float32Array | Int32Array | Int8Array | Uint16Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** tfjs conv2d filter [h, w, in, out] -> TFLite [out, h, w, in]. */
function convFilterToTflite(values: Float32Array, [h, w, inC, outC]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++) out[((o * h + y) * w + x) * inC + i] = values[((y * w + x) * inC + i) * outC + o];
  return out;
}

/** tfjs dense kernel [in, out] -> TFLite FULLY_CONNECTED weights [out, in]. */
function denseKernelToTflite(values: Float32Array, [inC, outC]: [number, number]): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) out[o * inC + i] = values[i * outC + o];
  return out;
}

class TfliteGraph {
  readonly builder = new flatbuffers.Builder(1 << 20);
  readonly tensors: TensorSpec[] = [];
  /** Buffer 0 is the empty sentinel activations point at. */
  readonly buffers: (Uint8Array | null)[] = [null];
  readonly opcodes: BuiltinOperatorValue[] = [];
  readonly operators: { opcodeIndex: number; inputs: number[]; outputs: number[]; options: (b: flatbuffers.Builder) => schema.Options | null }[] = [];

  constructor(readonly kind: TfliteKind) {}

  addTensor(spec: Omit<TensorSpec, 'buffer'>, data: Uint8Array | null = null): number {
    let buffer = 0;
    if (data) {
      this.buffers.push(data);
      buffer = this.buffers.length - 1;
    }
    this.tensors.push({ ...spec, buffer });
    return this.tensors.length - 1;
  }

  addOp(code: BuiltinOperatorValue, inputs: number[], outputs: number[], options: (b: flatbuffers.Builder) => schema.Options | null): void {
    let opcodeIndex = this.opcodes.indexOf(code);
    if (opcodeIndex < 0) opcodeIndex = this.opcodes.push(code) - 1;
    this.operators.push({ opcodeIndex, inputs, outputs, options });
  }

  /** A constant float tensor: float32 as is, or float16 + a DEQUANTIZE op to the float32 tensor the op reads. */
  addFloatConstant(name: string, shape: number[], values: Float32Array): number {
    if (this.kind !== 'float16') return this.addTensor({ name, shape, type: TensorType.FLOAT32 }, bytesOf(values));
    const half = this.addTensor({ name: `${name}_float16`, shape, type: TensorType.FLOAT16 }, bytesOf(toFloat16(values)));
    const full = this.addTensor({ name, shape, type: TensorType.FLOAT32 });
    this.addOp(BuiltinOperator.DEQUANTIZE, [half], [full], (b) => schema.emptyOptions(b, BuiltinOptions.DequantizeOptions));
    return full;
  }

  finish(signature: { input: number; output: number }, metadata: Uint8Array, description: string): Uint8Array {
    const b = this.builder;
    const metadataBuffer = this.buffers.push(metadata) - 1;
    // Children before parents: FlatBuffers builds bottom up.
    const buffers = this.buffers.map((data) => schema.buffer(b, data));
    const tensors = this.tensors.map((t) => schema.tensor(b, t));
    const operators = this.operators.map((op) => schema.operator(b, { ...op, options: op.options(b) }));
    const subgraph = schema.subGraph(b, { tensors, inputs: [signature.input], outputs: [signature.output], operators, name: 'main' });
    const operatorCodes = this.opcodes.map((code) => schema.operatorCode(b, code, opVersion(code, this.kind)));
    const metadataEntry = schema.metadata(b, METADATA_BUFFER_NAME, metadataBuffer);
    const signatureDef = schema.signatureDef(b, { key: 'serving_default', inputs: [['image', signature.input]], outputs: [['probabilities', signature.output]] });
    const root = schema.model(b, { operatorCodes, subgraphs: [subgraph], description, buffers, metadata: [metadataEntry], signatureDefs: [signatureDef] });
    b.finish(root, schema.FILE_IDENTIFIER);
    return b.asUint8Array();
  }
}

const paddingCode = (padding: ConvOp['padding']) => (padding === 'same' ? Padding.SAME : Padding.VALID);

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
  const model = g.finish({ input: modelInput, output: modelOutput }, metadata, `Graft image classifier (${kind})`);
  return appendLabelsZip(model, options.labels);
}

interface OpContext {
  kind: TfliteKind;
  quantizationOf(index: number): Quantization | undefined;
  declare(index: number, quantization?: Quantization): number;
  tfliteOf(index: number): number;
}

function writeOp(g: TfliteGraph, graph: FoldedGraph, op: FoldedOp, ctx: OpContext): void {
  const name = graph.tensors[op.output].name;
  const inputs = op.inputs.map(ctx.tfliteOf);
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise': {
      const depthwise = op.kind === 'depthwise';
      const [h, w, inC, last] = op.filter.shape;
      const outC = depthwise ? inC * last : last;
      // Depthwise: tfjs [h, w, in, multiplier] has the same memory order as TFLite's [1, h, w, in * multiplier].
      const shape = depthwise ? [1, h, w, outC] : [outC, h, w, inC];
      const values = depthwise ? op.filter.values : convFilterToTflite(op.filter.values, op.filter.shape);
      const output = ctx.declare(op.output, ctx.quantizationOf(op.output));
      const [filter, bias] = constants(g, op, ctx, { name, shape, values, channelOf: depthwise ? (i) => i % outC : (i) => Math.floor(i / (h * w * inC)), channelDimension: depthwise ? 3 : 0, perChannel: true });
      const common = { padding: paddingCode(op.padding), strides: op.strides, dilations: op.dilations, activation: activationCode(op.activation) };
      if (depthwise) {
        g.addOp(BuiltinOperator.DEPTHWISE_CONV_2D, [inputs[0], filter, bias], [output], (b) => schema.depthwiseConv2dOptions(b, { ...common, depthMultiplier: last }));
      } else {
        g.addOp(BuiltinOperator.CONV_2D, [inputs[0], filter, bias], [output], (b) => schema.conv2dOptions(b, common));
      }
      return;
    }
    case 'dense': {
      const [inC, outC] = op.kernel.shape;
      const output = ctx.declare(op.output, ctx.quantizationOf(op.output));
      const [weights, bias] = constants(g, op, ctx, {
        name,
        shape: [outC, inC],
        values: denseKernelToTflite(op.kernel.values, op.kernel.shape),
        channelOf: () => 0,
        channelDimension: 0,
        perChannel: false,
      });
      g.addOp(BuiltinOperator.FULLY_CONNECTED, [inputs[0], weights, bias], [output], (b) => schema.fullyConnectedOptions(b, activationCode(op.activation)));
      return;
    }
    case 'pad': {
      // int8 PAD keeps its input's quantization (the padding is the zero point, i.e. exactly 0).
      const inputQuantization = ctx.kind === 'int8' ? g.tensors[inputs[0]].quantization : undefined;
      const output = ctx.declare(op.output, inputQuantization);
      const paddings = g.addTensor({ name: `${name}/paddings`, shape: [4, 2], type: TensorType.INT32 }, bytesOf(Int32Array.from([0, 0, ...op.paddings.flat(), 0, 0])));
      g.addOp(BuiltinOperator.PAD, [inputs[0], paddings], [output], (b) => schema.emptyOptions(b, BuiltinOptions.PadOptions));
      return;
    }
    case 'add': {
      const output = ctx.declare(op.output, ctx.quantizationOf(op.output));
      g.addOp(BuiltinOperator.ADD, inputs, [output], (b) => schema.addOptions(b, activationCode(op.activation)));
      return;
    }
    case 'mean': {
      const output = ctx.declare(op.output, ctx.quantizationOf(op.output));
      const axes = g.addTensor({ name: `${name}/axes`, shape: [2], type: TensorType.INT32 }, bytesOf(Int32Array.from([1, 2])));
      g.addOp(BuiltinOperator.MEAN, [inputs[0], axes], [output], (b) => schema.reducerOptions(b, false));
      return;
    }
    case 'softmax': {
      const output = ctx.declare(op.output, ctx.kind === 'int8' ? SOFTMAX_INT8_OUTPUT : undefined);
      g.addOp(BuiltinOperator.SOFTMAX, inputs, [output], (b) => schema.softmaxOptions(b));
      return;
    }
  }
}

/** The weights and bias tensors of a conv or dense op, in the kind's types. */
function constants(
  g: TfliteGraph,
  op: ConvOp | DenseOp,
  ctx: OpContext,
  w: { name: string; shape: number[]; values: Float32Array; channelOf: (i: number) => number; channelDimension: number; perChannel: boolean },
): [number, number] {
  const biasShape = [op.bias.length];
  if (ctx.kind !== 'int8') {
    return [g.addFloatConstant(`${w.name}/weights`, w.shape, w.values), g.addFloatConstant(`${w.name}/bias`, biasShape, op.bias)];
  }
  const channels = w.perChannel ? w.shape[w.channelDimension] : 1;
  const quantized = quantizeSymmetric(w.values, channels, w.channelOf);
  const weights = g.addTensor(
    {
      name: `${w.name}/weights`,
      shape: w.shape,
      type: TensorType.INT8,
      quantization: { scale: quantized.scales, zeroPoint: quantized.scales.map(() => 0), quantizedDimension: w.perChannel ? w.channelDimension : 0 },
    },
    bytesOf(quantized.values),
  );
  const inputScale = g.tensors[ctx.tfliteOf(op.inputs[0])].quantization!.scale[0];
  const bias = quantizeBias(op.bias, inputScale, quantized.scales);
  const biasTensor = g.addTensor(
    { name: `${w.name}/bias`, shape: biasShape, type: TensorType.INT32, quantization: { scale: bias.scales, zeroPoint: bias.scales.map(() => 0), quantizedDimension: 0 } },
    bytesOf(bias.values),
  );
  return [weights, biasTensor];
}
