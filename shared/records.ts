/**
 * The storage contract: what a model and a dataset are, as stored in R2, served by the API and read by
 * the client. Valibot schemas are the single source; the types are inferred from them.
 */
import * as v from 'valibot';
import { MAX_NAME_LENGTH, nameProblem } from './names';

const Name = v.pipe(
  v.string(),
  v.maxLength(MAX_NAME_LENGTH),
  v.check((s) => nameProblem(s) === null, 'must be a safe name: a-z, 0-9, ".", "_", "-", no ".."'),
);
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** How pixels (0..255) become model input: x * scale + offset. MobileNet: 1/127.5 and -1. */
export const PreprocessingSchema = v.object({ scale: v.number(), offset: v.number() });

/**
 * What Graft needs to know about a base model beyond its TF.js topology. Ingest writes it into
 * model.json as userDefinedMetadata.graft; the API keeps it as the model's record.
 */
export const ModelMetadataSchema = v.object({
  /** Display name. */
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  /** Square input side in pixels the weights were trained at (fully convolutional bases accept others). */
  inputSize: v.pipe(Count, v.minValue(16), v.maxValue(1024)),
  /** Layer whose output is the bottleneck feature map, e.g. 'out_relu'. */
  bottleneck: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  preprocessing: PreprocessingSchema,
  /** Total bytes of all weight files. */
  bytes: Count,
  /** sha256 of all weight bytes concatenated in weightsManifest order. */
  weightsHash: Sha256,
  /** Number of layers in the topology. */
  layers: Count,
});
export type ModelMetadata = v.InferOutput<typeof ModelMetadataSchema>;

/** One entry of GET /api/models. */
export const ModelRecordSchema = v.object({ id: Name, ...ModelMetadataSchema.entries });
export type ModelRecord = v.InferOutput<typeof ModelRecordSchema>;

/** The parts of a TF.js layers model.json the API checks before storing it. */
export const LayersModelJsonSchema = v.looseObject({
  format: v.optional(v.string()),
  modelTopology: v.record(v.string(), v.unknown()),
  weightsManifest: v.array(
    v.looseObject({
      paths: v.array(Name),
      weights: v.array(v.looseObject({ name: v.string(), shape: v.array(Count), dtype: v.string() })),
    }),
  ),
  userDefinedMetadata: v.looseObject({ graft: ModelMetadataSchema }),
});
export type LayersModelJson = v.InferOutput<typeof LayersModelJsonSchema>;

export const ShardSchema = v.object({
  /** Content-addressed file name under /api/datasets/:id/shards/. */
  file: Name,
  bytes: Count,
  sha256: Sha256,
});
export type Shard = v.InferOutput<typeof ShardSchema>;

/** Longest class name a manifest holds (ingest skips class folders with longer names). */
export const MAX_CLASS_NAME_LENGTH = 200;
/** Longest path of an image below its class folder (ingest skips files with longer paths). */
export const MAX_IMAGE_PATH_LENGTH = 1000;

const ClassName = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLASS_NAME_LENGTH));

export const ImageEntrySchema = v.object({
  /** sha256 of the image's bytes: the key features are cached under. */
  id: Sha256,
  /** Class name, one of the manifest's classes. */
  class: ClassName,
  /** File name of the shard that holds the bytes. */
  shard: Name,
  offset: Count,
  length: v.pipe(Count, v.minValue(1)),
  /** The file's path below its class folder, as it was ingested. */
  file: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_IMAGE_PATH_LENGTH)),
  /** MIME type sniffed from the bytes, e.g. image/jpeg. */
  type: v.pipe(v.string(), v.regex(/^image\/[a-z0-9.+-]+$/)),
});
export type ImageEntry = v.InferOutput<typeof ImageEntrySchema>;

export const DatasetManifestSchema = v.pipe(
  v.object({
    version: v.literal(1),
    id: Name,
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    classes: v.pipe(v.array(ClassName), v.minLength(1), v.maxLength(1000)),
    shards: v.array(ShardSchema),
    images: v.pipe(v.array(ImageEntrySchema), v.minLength(1)),
  }),
  v.check((m) => new Set(m.classes).size === m.classes.length, 'classes must be unique'),
  v.check((m) => {
    const classes = new Set(m.classes);
    return m.images.every((image) => classes.has(image.class));
  }, 'every image must name one of the classes'),
  v.check((m) => {
    const sizes = new Map(m.shards.map((s) => [s.file, s.bytes]));
    return m.images.every((image) => {
      const size = sizes.get(image.shard);
      return size !== undefined && image.offset + image.length <= size;
    });
  }, 'every image must lie inside a shard listed in shards'),
);
export type DatasetManifest = v.InferOutput<typeof DatasetManifestSchema>;

/** One entry of GET /api/datasets. */
export const DatasetRecordSchema = v.object({
  id: Name,
  name: v.string(),
  classes: v.array(v.string()),
  /** Images per class, in the order of classes. */
  classCounts: v.array(Count),
  imageCount: Count,
  /** Bytes of all shards. */
  bytes: Count,
});
export type DatasetRecord = v.InferOutput<typeof DatasetRecordSchema>;

/** The record GET /api/datasets lists for a manifest. */
export function datasetRecordOf(manifest: DatasetManifest): DatasetRecord {
  const counts = new Map(manifest.classes.map((c) => [c, 0]));
  for (const image of manifest.images) counts.set(image.class, (counts.get(image.class) ?? 0) + 1);
  return {
    id: manifest.id,
    name: manifest.name,
    classes: manifest.classes,
    classCounts: manifest.classes.map((c) => counts.get(c) ?? 0),
    imageCount: manifest.images.length,
    bytes: manifest.shards.reduce((sum, s) => sum + s.bytes, 0),
  };
}

/** Body of every API error. */
export interface ApiError {
  error: string;
}

/** A readable summary of why `input` fails `schema`, for 400 bodies and CLI messages. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
