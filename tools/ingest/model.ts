/**
 * Turns a TF.js layers model (model.json + weight files, new "layers-model" or old Keras `model_config`
 * style) into what Graft stores: weights checked against their manifest, re-sharded into a few
 * content-addressed files of at most 4 MB, and model.json carrying userDefinedMetadata.graft.
 */
import * as v from 'valibot';
import {
  LayersModelJsonSchema,
  ModelRecordSchema,
  describeIssues,
  type ModelMetadata,
  type ModelRecord,
} from '../../shared/records';
import { contentAddressedName } from '../../shared/names';
import { SourceError } from './errors';
import { sha256Hex } from '../../shared/sha256';

/** Where a model's files come from: a directory or a model.json URL. */
export interface ModelSource {
  /** The path or URL given, for messages. */
  origin: string;
  modelJson: string;
  /** Bytes of a file named in weightsManifest paths (relative to model.json). */
  readWeightFile(path: string): Promise<Uint8Array>;
}

export interface ModelOptions {
  id: string;
  name?: string;
  bottleneck?: string;
  inputSize?: number;
  scale: number;
  offset: number;
}

export interface PreparedModel {
  record: ModelRecord;
  /** The model.json to store, serialized. */
  modelJson: string;
  /** Content-addressed weight files, in weightsManifest order. */
  weightFiles: { file: string; bytes: Uint8Array }[];
  /** How many weight files the source had. */
  sourceFiles: number;
}

/** TF.js' own shard size: big enough for few requests, small enough for browser caches. */
export const MAX_WEIGHT_FILE_BYTES = 4 * 1024 * 1024;

/** Bottleneck layers of the base models Graft knows, tried in this order when --bottleneck is not given. */
const KNOWN_BOTTLENECKS = ['out_relu', 'conv_pw_13_relu'];

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const SourceModelJsonSchema = v.looseObject({
  modelTopology: v.record(v.string(), v.unknown()),
  weightsManifest: v.pipe(
    v.array(
      v.looseObject({
        paths: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)),
        weights: v.array(
          v.looseObject({
            name: v.string(),
            shape: v.array(Count),
            dtype: v.string(),
            quantization: v.optional(v.looseObject({ dtype: v.string() })),
          }),
        ),
      }),
    ),
    v.minLength(1, 'lists no weights'),
  ),
  userDefinedMetadata: v.optional(v.record(v.string(), v.unknown())),
});
type WeightSpec = v.InferOutput<typeof SourceModelJsonSchema>['weightsManifest'][number]['weights'][number];

type Json = Record<string, unknown>;
const isRecord = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

export async function prepareModel(source: ModelSource, options: ModelOptions): Promise<PreparedModel> {
  let raw: unknown;
  try {
    raw = JSON.parse(source.modelJson);
  } catch (error) {
    throw new SourceError(`${source.origin}: model.json is not JSON (${(error as Error).message})`);
  }
  const parsed = v.safeParse(SourceModelJsonSchema, raw);
  if (!parsed.success) {
    throw new SourceError(`${source.origin}: not a TF.js layers model.json: ${describeIssues(parsed.issues)}`);
  }
  const original = parsed.output;
  const layers = topologyLayers(original.modelTopology, source.origin);

  const groups: Uint8Array[] = [];
  for (const [index, group] of original.weightsManifest.entries()) {
    const parts: Uint8Array[] = [];
    for (const path of group.paths) {
      try {
        parts.push(await source.readWeightFile(path));
      } catch (error) {
        throw new SourceError(`${source.origin}: weight file ${path} cannot be read (${(error as Error).message})`);
      }
    }
    const bytes = Buffer.concat(parts);
    const expected = group.weights.reduce((sum, w) => sum + weightBytes(w, source.origin), 0);
    if (bytes.length !== expected) {
      throw new SourceError(
        `${source.origin}: weight group ${index + 1} (${group.paths.join(', ')}) holds ${bytes.length} bytes but its ` +
          `${group.weights.length} weights need ${expected}: the model is truncated or corrupt`,
      );
    }
    groups.push(bytes);
  }
  const allWeights = Buffer.concat(groups);
  if (allWeights.length === 0) throw new SourceError(`${source.origin}: the model has no weights`);

  const weightFiles: PreparedModel['weightFiles'] = [];
  for (let start = 0; start < allWeights.length; start += MAX_WEIGHT_FILE_BYTES) {
    const bytes = allWeights.subarray(start, start + MAX_WEIGHT_FILE_BYTES);
    weightFiles.push({ file: contentAddressedName('weights', await sha256Hex(bytes), 'bin'), bytes });
  }

  const metadata: ModelMetadata = {
    name: options.name ?? options.id,
    inputSize: inputSizeOf(layers, options.inputSize, source.origin),
    bottleneck: bottleneckOf(layers, options.bottleneck, source.origin),
    preprocessing: { scale: options.scale, offset: options.offset },
    bytes: allWeights.length,
    weightsHash: await sha256Hex(allWeights),
    layers: layers.length,
  };
  const record = v.safeParse(ModelRecordSchema, { id: options.id, ...metadata });
  if (!record.success) throw new SourceError(`${source.origin}: ${describeIssues(record.issues)}`);

  // One group across all files: TF.js reads a group's weights from the concatenation of its paths.
  const modelJson = {
    ...original,
    format: typeof original.format === 'string' ? original.format : 'layers-model',
    weightsManifest: [{ paths: weightFiles.map((f) => f.file), weights: original.weightsManifest.flatMap((g) => g.weights) }],
    userDefinedMetadata: { ...original.userDefinedMetadata, graft: metadata },
  };
  const checked = v.safeParse(LayersModelJsonSchema, modelJson);
  if (!checked.success) throw new SourceError(`${source.origin}: ${describeIssues(checked.issues)}`);

  return {
    record: record.output,
    modelJson: JSON.stringify(modelJson),
    weightFiles,
    sourceFiles: original.weightsManifest.reduce((sum, g) => sum + g.paths.length, 0),
  };
}

function weightBytes(weight: WeightSpec, origin: string): number {
  const dtype = weight.quantization?.dtype ?? weight.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  if (size === undefined) throw new SourceError(`${origin}: weight ${weight.name} has dtype ${dtype}, which Graft cannot check`);
  return weight.shape.reduce((n, d) => n * d, 1) * size;
}

/** The top-level layers, as tfjs-layers sees them: old Keras exports nest the model under model_config. */
function topologyLayers(topology: Json, origin: string): Json[] {
  const model = isRecord(topology.model_config) ? topology.model_config : topology;
  const config = model.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every(isRecord)) {
    throw new SourceError(`${origin}: modelTopology lists no layers (expected config.layers)`);
  }
  return layers;
}

function layerName(layer: Json): string | undefined {
  if (typeof layer.name === 'string') return layer.name;
  return isRecord(layer.config) && typeof layer.config.name === 'string' ? layer.config.name : undefined;
}

function inputSizeOf(layers: Json[], requested: number | undefined, origin: string): number {
  const input = layers.find((l) => l.class_name === 'InputLayer') ?? layers[0];
  const config = isRecord(input.config) ? input.config : {};
  const shape = config.batch_input_shape ?? config.batchInputShape ?? config.batch_shape;
  const [, height, width] = Array.isArray(shape) ? shape : [];
  const fixed = typeof height === 'number' && height === width ? height : undefined;
  if (requested !== undefined && fixed !== undefined && requested !== fixed) {
    throw new SourceError(`${origin}: --input-size ${requested} contradicts the model's input shape ${JSON.stringify(shape)}`);
  }
  const size = requested ?? fixed;
  if (size === undefined) {
    throw new SourceError(
      `${origin}: the input layer's shape ${JSON.stringify(shape)} does not fix a square image size: give --input-size`,
    );
  }
  return size;
}

function bottleneckOf(layers: Json[], requested: string | undefined, origin: string): string {
  const names = layers.map(layerName);
  if (requested !== undefined) {
    if (names.includes(requested)) return requested;
    throw new SourceError(
      `${origin}: no top-level layer named '${requested}' (last layers: ${names.slice(-5).join(', ')})`,
    );
  }
  const known = KNOWN_BOTTLENECKS.find((name) => names.includes(name));
  if (known) return known;
  throw new SourceError(
    `${origin}: no layer named ${KNOWN_BOTTLENECKS.join(' or ')}: give --bottleneck <layer name> ` +
      `(last layers: ${names.slice(-5).join(', ')})`,
  );
}
