/**
 * Cache keys: which base model produced a feature, and which image and view it belongs to.
 * A key changes whenever anything that changes the stored numbers changes, so a cached feature is never
 * read for the wrong model and never has to be recomputed for the right one.
 */
import type { Augmentation } from '../../shared/augmentation';
import { CONTENT_HASH_LENGTH } from '../../shared/names';

/** What identifies the numbers a base model produces for an image. */
export interface ModelKeyParts {
  /** The API's model id, e.g. 'mobilenet-v2-035-224'. */
  modelId: string;
  /** sha256 of the model's weight bytes (ModelMetadata.weightsHash): re-ingested weights get new features. */
  weightsHash: string;
  /** Square side the images are resized to before the model sees them. */
  inputSize: number;
  /**
   * What is stored: the bottleneck layer's name for pooled bottleneck features (e.g. 'out_relu'), or the
   * first layer above the cut for the activations that cross the cut (e.g. 'block_13_expand').
   */
  cutLayer: string;
}

const HEX = /^[0-9a-f]+$/;

/**
 * `m1|<modelId>|<hash prefix>|<inputSize>|<cutLayer, URI-encoded>`. The hash keeps the same 128 bits as
 * content-addressed file names; `cutLayer` is encoded so no layer name can forge a separator.
 */
export function modelKey({ modelId, weightsHash, inputSize, cutLayer }: ModelKeyParts): string {
  if (modelId.length === 0 || modelId.includes('|')) throw new TypeError(`model id ${JSON.stringify(modelId)} cannot be part of a cache key`);
  if (weightsHash.length < CONTENT_HASH_LENGTH || !HEX.test(weightsHash)) {
    throw new TypeError(`weights hash must be at least ${CONTENT_HASH_LENGTH} lowercase hex digits, got ${JSON.stringify(weightsHash)}`);
  }
  if (!Number.isInteger(inputSize) || inputSize <= 0) throw new TypeError(`input size must be a positive integer, got ${inputSize}`);
  if (cutLayer.length === 0) throw new TypeError('cut layer must not be empty');
  return `m1|${modelId}|${weightsHash.slice(0, CONTENT_HASH_LENGTH)}|${inputSize}|${encodeURIComponent(cutLayer)}`;
}

/**
 * The model keys a run's features are cached under: the base's pooled bottleneck features, and, when the run
 * fine-tunes, the activations crossing the cut below `cutLayer` (the first layer that trains in stage 2).
 */
export function baseModelKeys(
  record: { id: string; weightsHash: string; bottleneck: string },
  inputSize: number,
  cutLayer: string | null,
): { pooledKey: string; cutKey: string | null } {
  const parts = { modelId: record.id, weightsHash: record.weightsHash, inputSize };
  return { pooledKey: modelKey({ ...parts, cutLayer: record.bottleneck }), cutKey: cutLayer === null ? null : modelKey({ ...parts, cutLayer }) };
}

/**
 * `<modelKey>|<imageId>|<view>`, and for an augmented view `|<augmentationTag>` after it. imageId is the
 * image's sha256 (ImageEntry.id); view 0 is the original image, 1..K its augmented views, which are a function
 * of every augmentation parameter, so those are in their key. Keys of one model share a prefix, so they also
 * sort together.
 */
export function featureKey(modelKeyString: string, imageId: string, view: number, augmentation?: Augmentation): string {
  if (!modelKeyString.startsWith('m1|')) throw new TypeError(`not a model key: ${JSON.stringify(modelKeyString)}`);
  if (imageId.length === 0 || imageId.includes('|')) throw new TypeError(`image id ${JSON.stringify(imageId)} cannot be part of a cache key`);
  if (!Number.isInteger(view) || view < 0) throw new TypeError(`view must be a non-negative integer, got ${view}`);
  if (view === 0) return `${modelKeyString}|${imageId}|0`;
  if (!augmentation) throw new TypeError(`view ${view} is augmented: its key needs the augmentation's parameters`);
  return `${modelKeyString}|${imageId}|${view}|${augmentationTag(augmentation)}`;
}

/**
 * `a1,<flip>,<rotation>,<zoom>,<fill>,<interpolation>`: every parameter that changes an augmented view's pixels.
 * `a1` is the way views are drawn from (image id, view) (augment.ts); a new way needs a new version.
 */
export function augmentationTag({ flip, rotation, zoom, fill, interpolation }: Augmentation): string {
  for (const [name, factor] of [['rotation', rotation], ['zoom', zoom]] as const) {
    if (!(factor >= 0 && Number.isFinite(factor))) throw new TypeError(`augmentation ${name} must be a number >= 0, got ${factor}`);
  }
  const words = [flip, fill, interpolation];
  if (words.some((word) => typeof word !== 'string' || !/^[a-z]+$/.test(word))) {
    throw new TypeError(`augmentation flip, fill and interpolation must be plain words, got ${JSON.stringify(words)}`);
  }
  return `a1,${flip},${rotation},${zoom},${fill},${interpolation}`;
}

/** The parts of a modelKey() string (the weights hash as its stored prefix). */
export function parseModelKey(key: string): ModelKeyParts {
  const [version, modelId, weightsHash, inputSize, cutLayer] = key.split('|');
  if (version !== 'm1' || cutLayer === undefined) throw new TypeError(`not a model key: ${JSON.stringify(key)}`);
  return { modelId, weightsHash, inputSize: Number(inputSize), cutLayer: decodeURIComponent(cutLayer) };
}
