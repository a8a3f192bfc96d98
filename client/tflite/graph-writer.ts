/**
 * Writes the ops of a folded graph (client/engine/fold.ts) as TFLite operators and tensors: the part every Graft
 * .tflite file shares (the classifier of the Android export, writer.ts; the frozen base the farm runs in LiteRT.js,
 * base-file.ts). TFLite layouts (conv filters [out, h, w, in], depthwise [1, h, w, in * multiplier], dense
 * weights [out, in]), weights float32, float16 + DEQUANTIZE, or int8 (quantize.ts). No DOM, no tfjs.
 */
import * as flatbuffers from 'flatbuffers';
import { toFloat16 } from '../../shared/float16';
import type { TfliteKind } from '../../shared/trainer-messages';
import type { ConvOp, DenseOp, FoldedGraph, FoldedOp, FusedActivation } from '../engine/fold';
import { METADATA_BUFFER_NAME } from './metadata';
import { SOFTMAX_INT8_OUTPUT, quantizeBias, quantizeSymmetric } from './quantize';
import * as schema from './schema';
import { ActivationFunctionType, BuiltinOperator, BuiltinOptions, Padding, TensorType, type BuiltinOperatorValue, type Quantization, type TensorSpec } from './schema';

/** Op versions as TFLite's converter sets them (lite/tools/versioning/op_version.cc) for the types used here. */
export function opVersion(code: BuiltinOperatorValue, kind: TfliteKind): number {
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

export function activationCode(activation: FusedActivation): schema.ActivationValue {
  return activation === 'relu6' ? ActivationFunctionType.RELU6 : activation === 'relu' ? ActivationFunctionType.RELU : ActivationFunctionType.NONE;
}

export function bytesOf(array: Float32Array | Int32Array | Int8Array | Uint16Array): Uint8Array {
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

export class TfliteGraph {
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

  /**
   * The file: one subgraph named 'main' and one signature 'serving_default' with these named inputs and outputs
   * (in this order), and `metadata` under TFLITE_METADATA when given.
   */
  finish(signature: { inputs: [string, number][]; outputs: [string, number][] }, description: string, metadata?: Uint8Array): Uint8Array {
    const b = this.builder;
    const metadataBuffer = metadata ? this.buffers.push(metadata) - 1 : -1;
    // Children before parents: FlatBuffers builds bottom up.
    const buffers = this.buffers.map((data) => schema.buffer(b, data));
    const tensors = this.tensors.map((t) => schema.tensor(b, t));
    const operators = this.operators.map((op) => schema.operator(b, { ...op, options: op.options(b) }));
    const [inputs, outputs] = [signature.inputs.map(([, index]) => index), signature.outputs.map(([, index]) => index)];
    const subgraph = schema.subGraph(b, { tensors, inputs, outputs, operators, name: 'main' });
    const operatorCodes = this.opcodes.map((code) => schema.operatorCode(b, code, opVersion(code, this.kind)));
    const metadataEntries = metadata ? [schema.metadata(b, METADATA_BUFFER_NAME, metadataBuffer)] : [];
    const signatureDef = schema.signatureDef(b, { key: 'serving_default', ...signature });
    const root = schema.model(b, { operatorCodes, subgraphs: [subgraph], description, buffers, metadata: metadataEntries, signatureDefs: [signatureDef] });
    b.finish(root, schema.FILE_IDENTIFIER);
    return b.asUint8Array();
  }
}

const paddingCode = (padding: ConvOp['padding']) => (padding === 'same' ? Padding.SAME : Padding.VALID);


export interface OpContext {
  kind: TfliteKind;
  quantizationOf(index: number): Quantization | undefined;
  declare(index: number, quantization?: Quantization): number;
  tfliteOf(index: number): number;
}

export function writeOp(g: TfliteGraph, graph: FoldedGraph, op: FoldedOp, ctx: OpContext): void {
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
