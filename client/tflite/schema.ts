/**
 * The part of TFLite's FlatBuffers schema Graft writes, as builder functions over the `flatbuffers` npm package.
 * Field slots, enum values and union indices are read from tensorflow/compiler/mlir/lite/schema/schema.fbs
 * (schema version 3, file identifier "TFL3"); a table's slot is its field's position in the table, the union
 * index is the member's position in `union BuiltinOptions` + 1 (0 is NONE). Checked: Debian's flatc 2.0.8
 * `--ts` output compiles against flatbuffers 25 (only noUnusedLocals trips on its unused imports), but generating
 * it needs schema.fbs (43 KB) in the repository, which this offline build could not fetch; so the builder API
 * directly, with the schema's own names, so each line can be checked against it. No DOM, no tfjs.
 */
import * as flatbuffers from 'flatbuffers';

export const FILE_IDENTIFIER = 'TFL3';
export const SCHEMA_VERSION = 3;

/** enum TensorType : byte */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT8: 9 } as const;
export type TensorTypeValue = (typeof TensorType)[keyof typeof TensorType];

/** enum BuiltinOperator : int32 */
export const BuiltinOperator = {
  ADD: 0,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  SOFTMAX: 25,
  PAD: 34,
  MEAN: 40,
  QUANTIZE: 114,
} as const;
export type BuiltinOperatorValue = (typeof BuiltinOperator)[keyof typeof BuiltinOperator];

/** union BuiltinOptions: position in the union + 1. */
export const BuiltinOptions = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  AddOptions: 11,
  PadOptions: 22,
  ReducerOptions: 27,
  DequantizeOptions: 38,
  QuantizeOptions: 89,
} as const;
export type BuiltinOptionsValue = (typeof BuiltinOptions)[keyof typeof BuiltinOptions];

/** enum Padding : byte */
export const Padding = { SAME: 0, VALID: 1 } as const;

/** enum ActivationFunctionType : byte */
export const ActivationFunctionType = { NONE: 0, RELU: 1, RELU6: 3 } as const;
export type ActivationValue = (typeof ActivationFunctionType)[keyof typeof ActivationFunctionType];

type Builder = flatbuffers.Builder;
type Offset = flatbuffers.Offset;

function int32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

/** A [float] vector (FlatBuffers builds vectors back to front). */
export function float32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function int64Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
  return b.endVector();
}

/** A vector of tables or strings. */
export function offsetVector(b: Builder, offsets: readonly Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

/** table QuantizationParameters { min, max, scale:[float], zero_point:[long], details, quantized_dimension:int } */
export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension?: number;
}

/**
 * Zero-point vectors already written, by builder and length: per-channel weights and biases all have zero points
 * 0, 8 bytes a channel each, so one shared vector per length (FlatBuffers lets tables share a vector) keeps an int8
 * MobileNetV2-0.35 about 110 KB smaller.
 */
const zeroVectors = new WeakMap<Builder, Map<number, Offset>>();

function zeroPointVector(b: Builder, zeroPoint: readonly number[]): Offset {
  if (zeroPoint.some((z) => z !== 0)) return int64Vector(b, zeroPoint);
  let shared = zeroVectors.get(b);
  if (!shared) zeroVectors.set(b, (shared = new Map()));
  let offset = shared.get(zeroPoint.length);
  if (offset === undefined) shared.set(zeroPoint.length, (offset = int64Vector(b, zeroPoint)));
  return offset;
}

function quantizationParameters(b: Builder, q: Quantization): Offset {
  const scale = float32Vector(b, q.scale);
  const zeroPoint = zeroPointVector(b, q.zeroPoint);
  b.startObject(7);
  b.addFieldOffset(2, scale, 0);
  b.addFieldOffset(3, zeroPoint, 0);
  b.addFieldInt32(6, q.quantizedDimension ?? 0, 0);
  return b.endObject();
}

/** table Tensor { shape:[int], type:TensorType, buffer:uint, name:string, quantization, is_variable, sparsity, shape_signature, has_rank } */
export interface TensorSpec {
  shape: number[];
  type: TensorTypeValue;
  /** Index into Model.buffers; 0 is the empty buffer of activations. */
  buffer: number;
  name: string;
  quantization?: Quantization;
}

export function tensor(b: Builder, t: TensorSpec): Offset {
  const shape = int32Vector(b, t.shape);
  const name = b.createString(t.name);
  const quantization = t.quantization ? quantizationParameters(b, t.quantization) : 0;
  b.startObject(10);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, 0);
  b.addFieldInt32(2, t.buffer, 0);
  b.addFieldOffset(3, name, 0);
  if (quantization) b.addFieldOffset(4, quantization, 0);
  b.addFieldInt8(8, 1, 0); // has_rank: the shape is fully known
  return b.endObject();
}

/** table Buffer { data:[ubyte] (force_align: 16); offset:ulong; size:ulong } */
export function buffer(b: Builder, data: Uint8Array | null): Offset {
  let vector = 0;
  if (data && data.length > 0) {
    // force_align: 16 — pad so that the bytes start 16-aligned, then write them in one go.
    b.prep(16, data.length);
    vector = b.createByteVector(data);
  }
  b.startObject(3);
  if (vector) b.addFieldOffset(0, vector, 0);
  return b.endObject();
}

/** table OperatorCode { deprecated_builtin_code:byte, custom_code:string, version:int = 1, builtin_code:BuiltinOperator } */
export function operatorCode(b: Builder, code: BuiltinOperatorValue, version: number): Offset {
  b.startObject(4);
  // Codes below PLACEHOLDER_FOR_GREATER_OP_CODES (127) go in both fields; readers take the larger.
  b.addFieldInt8(0, Math.min(code, 127), 0);
  b.addFieldInt32(2, version, 1);
  b.addFieldInt32(3, code, 0);
  return b.endObject();
}

/** The builtin options table of an operator, built by one of the functions below. */
export interface Options {
  type: BuiltinOptionsValue;
  offset: Offset;
}

/** table Conv2DOptions { padding, stride_w, stride_h, fused_activation_function, dilation_w_factor = 1, dilation_h_factor = 1, quantized_bias_type } */
export function conv2dOptions(b: Builder, o: { padding: number; strides: [number, number]; dilations: [number, number]; activation: ActivationValue }): Options {
  b.startObject(7);
  b.addFieldInt8(0, o.padding, 0);
  b.addFieldInt32(1, o.strides[1], 0);
  b.addFieldInt32(2, o.strides[0], 0);
  b.addFieldInt8(3, o.activation, 0);
  b.addFieldInt32(4, o.dilations[1], 1);
  b.addFieldInt32(5, o.dilations[0], 1);
  return { type: BuiltinOptions.Conv2DOptions, offset: b.endObject() };
}

/** table DepthwiseConv2DOptions { padding, stride_w, stride_h, depth_multiplier, fused_activation_function, dilation_w_factor = 1, dilation_h_factor = 1 } */
export function depthwiseConv2dOptions(
  b: Builder,
  o: { padding: number; strides: [number, number]; dilations: [number, number]; depthMultiplier: number; activation: ActivationValue },
): Options {
  b.startObject(7);
  b.addFieldInt8(0, o.padding, 0);
  b.addFieldInt32(1, o.strides[1], 0);
  b.addFieldInt32(2, o.strides[0], 0);
  b.addFieldInt32(3, o.depthMultiplier, 0);
  b.addFieldInt8(4, o.activation, 0);
  b.addFieldInt32(5, o.dilations[1], 1);
  b.addFieldInt32(6, o.dilations[0], 1);
  return { type: BuiltinOptions.DepthwiseConv2DOptions, offset: b.endObject() };
}

/** table FullyConnectedOptions { fused_activation_function, weights_format, keep_num_dims, asymmetric_quantize_inputs, quantized_bias_type } */
export function fullyConnectedOptions(b: Builder, activation: ActivationValue): Options {
  b.startObject(5);
  b.addFieldInt8(0, activation, 0);
  return { type: BuiltinOptions.FullyConnectedOptions, offset: b.endObject() };
}

/** table SoftmaxOptions { beta:float } */
export function softmaxOptions(b: Builder): Options {
  b.startObject(1);
  b.addFieldFloat32(0, 1, 0);
  return { type: BuiltinOptions.SoftmaxOptions, offset: b.endObject() };
}

/** table AddOptions { fused_activation_function, pot_scale_int16:bool = true } */
export function addOptions(b: Builder, activation: ActivationValue): Options {
  b.startObject(2);
  b.addFieldInt8(0, activation, 0);
  return { type: BuiltinOptions.AddOptions, offset: b.endObject() };
}

/** table ReducerOptions { keep_dims:bool } */
export function reducerOptions(b: Builder, keepDims: boolean): Options {
  b.startObject(1);
  b.addFieldInt8(0, keepDims ? 1 : 0, 0);
  return { type: BuiltinOptions.ReducerOptions, offset: b.endObject() };
}

/** The option tables without fields: PadOptions, DequantizeOptions, QuantizeOptions. */
export function emptyOptions(b: Builder, type: BuiltinOptionsValue): Options {
  b.startObject(0);
  return { type, offset: b.endObject() };
}

/** table Operator { opcode_index:uint, inputs:[int], outputs:[int], builtin_options (type slot 3, value slot 4), ... } */
export function operator(b: Builder, o: { opcodeIndex: number; inputs: number[]; outputs: number[]; options: Options | null }): Offset {
  const inputs = int32Vector(b, o.inputs);
  const outputs = int32Vector(b, o.outputs);
  b.startObject(13);
  b.addFieldInt32(0, o.opcodeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  // A union field takes two slots: its type (here 3) and then its value (4).
  if (o.options) {
    b.addFieldInt8(3, o.options.type, 0);
    b.addFieldOffset(4, o.options.offset, 0);
  }
  return b.endObject();
}

/** table SubGraph { tensors:[Tensor], inputs:[int], outputs:[int], operators:[Operator], name:string } */
export function subGraph(b: Builder, s: { tensors: Offset[]; inputs: number[]; outputs: number[]; operators: Offset[]; name: string }): Offset {
  const tensors = offsetVector(b, s.tensors);
  const inputs = int32Vector(b, s.inputs);
  const outputs = int32Vector(b, s.outputs);
  const operators = offsetVector(b, s.operators);
  const name = b.createString(s.name);
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operators, 0);
  b.addFieldOffset(4, name, 0);
  return b.endObject();
}

/** table Metadata { name:string, buffer:uint } */
export function metadata(b: Builder, name: string, bufferIndex: number): Offset {
  const nameOffset = b.createString(name);
  b.startObject(2);
  b.addFieldOffset(0, nameOffset, 0);
  b.addFieldInt32(1, bufferIndex, 0);
  return b.endObject();
}

/** table TensorMap { name:string, tensor_index:uint } */
function tensorMap(b: Builder, name: string, index: number): Offset {
  const nameOffset = b.createString(name);
  b.startObject(2);
  b.addFieldOffset(0, nameOffset, 0);
  b.addFieldInt32(1, index, 0);
  return b.endObject();
}

/** table SignatureDef { inputs:[TensorMap], outputs:[TensorMap], signature_key:string, deprecated_tag, subgraph_index:uint } */
export function signatureDef(b: Builder, s: { key: string; inputs: [string, number][]; outputs: [string, number][] }): Offset {
  const inputs = offsetVector(b, s.inputs.map(([name, index]) => tensorMap(b, name, index)));
  const outputs = offsetVector(b, s.outputs.map(([name, index]) => tensorMap(b, name, index)));
  const key = b.createString(s.key);
  b.startObject(5);
  b.addFieldOffset(0, inputs, 0);
  b.addFieldOffset(1, outputs, 0);
  b.addFieldOffset(2, key, 0);
  return b.endObject();
}

/** table Model { version:uint, operator_codes, subgraphs, description:string, buffers, metadata_buffer, metadata, signature_defs } */
export function model(
  b: Builder,
  m: { operatorCodes: Offset[]; subgraphs: Offset[]; description: string; buffers: Offset[]; metadata: Offset[]; signatureDefs: Offset[] },
): Offset {
  const operatorCodes = offsetVector(b, m.operatorCodes);
  const subgraphs = offsetVector(b, m.subgraphs);
  const description = b.createString(m.description);
  const buffers = offsetVector(b, m.buffers);
  const metadataVector = offsetVector(b, m.metadata);
  const signatureDefs = offsetVector(b, m.signatureDefs);
  b.startObject(8);
  b.addFieldInt32(0, SCHEMA_VERSION, 0);
  b.addFieldOffset(1, operatorCodes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffers, 0);
  b.addFieldOffset(6, metadataVector, 0);
  b.addFieldOffset(7, signatureDefs, 0);
  return b.endObject();
}
