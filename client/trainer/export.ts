/**
 * The trained classifier as one standard tfjs LayersModel: the base truncated at the bottleneck (fine-tuned weights
 * included) + GlobalAveragePooling2D + the head, taking a preprocessed [size, size, 3] image (x * scale + offset).
 * Exported as plain ModelArtifacts (one weight buffer) and as the file pair model.json + weights.bin a browser
 * loads with tf.loadLayersModel; optionally with float16 or uint8 weights, written in the weightsManifest format
 * tfjs's own decodeWeights reads, so loading needs no code of ours.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelRecord } from '../../shared/records';
import type { WeightQuantization } from '../../shared/trainer-messages';
import { toFloat16 } from '../../shared/float16';
import { applyHead } from './head';

export const WEIGHTS_FILE = 'weights.bin';

/** What an exported model.json carries in userDefinedMetadata.classifier. */
export interface ClassifierMetadata {
  classes: string[];
  inputSize: number;
  preprocessing: ModelRecord['preprocessing'];
}

export interface ExportedClassifier {
  /** For tf.loadLayersModel(tf.io.fromMemory(artifacts)). */
  artifacts: tf.io.ModelArtifacts;
  /** The file pair: model.json (its weightsManifest points at weights.bin) and weights.bin. */
  modelJson: string;
  weightsBin: ArrayBuffer;
}

/** image -> class probabilities, built from the base's and the head's own layers (a view: no weights copied). */
export function buildClassifier(base: tfl.LayersModel, head: tfl.LayersModel): tfl.LayersModel {
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(base.outputs[0]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: base.inputs, outputs: applyHead(head, pooled), name: 'graft_classifier' });
}

/**
 * Saves a classifier (buildClassifier()'s, or one loaded back from an export) as artifacts and as the file pair,
 * with float32, float16 or uint8 weights.
 */
export async function exportLayersModel(
  model: tfl.LayersModel,
  metadata: ClassifierMetadata,
  quantization: WeightQuantization = 'float32',
): Promise<ExportedClassifier> {
  const [, height, width] = model.inputs[0].shape;
  if (height !== metadata.inputSize || width !== metadata.inputSize) {
    throw new Error(`the model takes ${height}x${width} images, the metadata says ${metadata.inputSize}`);
  }
  const classCount = model.outputs[0].shape[1];
  if (classCount !== metadata.classes.length) {
    throw new Error(`the model predicts ${classCount} classes, ${metadata.classes.length} class names were given`);
  }
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (saved?.weightSpecs === undefined || saved.weightData === undefined) throw new Error('tfjs saved no weights');
  const float32 = tf.io.CompositeArrayBuffer.join(saved.weightData);
  const { specs, data } = quantizeWeights(saved.weightSpecs, float32, quantization);
  const userDefinedMetadata = { classifier: metadata };
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: saved.modelTopology,
    format: 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: null,
    weightSpecs: specs,
    weightData: data,
    userDefinedMetadata,
  };
  const modelJson: tf.io.ModelJSON = {
    modelTopology: saved.modelTopology as object,
    format: 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    userDefinedMetadata,
  };
  return { artifacts, modelJson: JSON.stringify(modelJson), weightsBin: data };
}

/** The artifacts of an exported file pair, as tf.io.browserFiles would read them. */
export function artifactsFromFiles(modelJson: string, weightsBin: ArrayBuffer): tf.io.ModelArtifacts {
  const json = JSON.parse(modelJson) as tf.io.ModelJSON;
  const paths = json.weightsManifest?.flatMap((group) => group.paths) ?? [];
  if (paths.length !== 1 || paths[0] !== WEIGHTS_FILE) {
    throw new Error(`expected one weights file '${WEIGHTS_FILE}' in model.json, found ${JSON.stringify(paths)}`);
  }
  return tf.io.getModelArtifactsForJSONSync(json, tf.io.getWeightSpecs(json.weightsManifest), weightsBin);
}

/**
 * Which weights 'uint8' stores as uint8: kernels of Conv2D and Dense layers with at least UINT8_MIN_VALUES values,
 * which hold most of the bytes. tfjs's format has one scale per tensor, which per-channel tensors do not survive
 * (depthwise kernels, BatchNorm statistics, biases) and which costs the most accuracy on small kernels, so the rest
 * goes float16. Measured on the flowers classifier (MobileNetV2-0.35): uint8 everywhere gave a mean probability
 * error of 0.030; this rule gives 0.005 at 30% of the float32 bytes (float16 alone: 0.0007 at 50%).
 */
const UINT8_MIN_VALUES = 4096;

function storesAsUint8(spec: tf.io.WeightsManifestEntry): boolean {
  return /(^|\/)kernel$/.test(spec.name) && tf.util.sizeFromShape(spec.shape) >= UINT8_MIN_VALUES;
}

/**
 * Re-encodes float32 weights as float16, or as uint8 where that keeps accuracy (storesAsUint8) and float16
 * elsewhere; other dtypes pass through unchanged.
 */
export function quantizeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  quantization: WeightQuantization,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  if (quantization === 'float32') return { specs, data };
  const parts: ArrayBuffer[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if ('quantization' in spec) throw new Error(`weight ${spec.name} is already quantized`);
    const size = tf.util.sizeFromShape(spec.shape);
    const bytes = size * (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1);
    if (spec.dtype !== 'float32') {
      if (spec.dtype !== 'int32' && spec.dtype !== 'bool') throw new Error(`cannot export weight ${spec.name} of dtype ${spec.dtype}`);
      parts.push(data.slice(offset, offset + bytes));
      outSpecs.push(spec);
    } else {
      const values = new Float32Array(data.slice(offset, offset + bytes));
      if (quantization === 'uint8' && storesAsUint8(spec)) {
        const { quantized, scale, min } = toUint8(values);
        parts.push(quantized.buffer as ArrayBuffer);
        outSpecs.push({ ...spec, quantization: { dtype: 'uint8', scale, min } });
      } else {
        parts.push(toFloat16(values).buffer as ArrayBuffer);
        outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
      }
    }
    offset += bytes;
  }
  if (offset !== data.byteLength) throw new Error(`weight specs cover ${offset} bytes of ${data.byteLength}`);
  return { specs: outSpecs, data: tf.io.CompositeArrayBuffer.join(parts) };
}

/** value = q * scale + min, with min nudged so that 0 is exactly representable (zero stays exactly zero). */
function affineRange(lo: number, hi: number): { scale: number; min: number } {
  const scale = (hi - lo) / 255;
  if (scale === 0) return { scale: 1, min: lo };
  return { scale, min: lo <= 0 && hi >= 0 ? -Math.round(-lo / scale) * scale : lo };
}

function quantizeTo(values: Float32Array, { scale, min }: { scale: number; min: number }, out: Uint8Array): number {
  const max = min + 255 * scale;
  let squaredError = 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.round((Math.min(Math.max(values[i], min), max) - min) / scale);
    out[i] = q;
    squaredError += (q * scale + min - values[i]) ** 2;
  }
  return squaredError;
}

/**
 * Affine uint8 (tfjs's {dtype: 'uint8', scale, min}). The range is the one of [min, max] shrunk by up to 80% that
 * gives the least squared error: clipping a few outliers buys finer steps for all other weights.
 */
export function toUint8(values: Float32Array): { quantized: Uint8Array; scale: number; min: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error('cannot quantize weights that are not finite');
  let best = { ...affineRange(lo, hi), quantized: new Uint8Array(values.length), error: Infinity };
  const candidate = new Uint8Array(values.length);
  for (let step = 0; step <= 20; step++) {
    const shrink = 1 - step * 0.04;
    const range = affineRange(lo * shrink, hi * shrink);
    const error = quantizeTo(values, range, candidate);
    if (error < best.error) best = { ...range, quantized: candidate.slice(), error };
  }
  return { quantized: best.quantized, scale: best.scale, min: best.min };
}
