/**
 * Test helper: reference feature extraction in Node, the same path the browser farm takes except for the JPEG
 * decoder (sharp, applying EXIF orientation as the browser does: tools/measure/decode-file.ts). Lists a
 * class-folder dataset from ../shared, decodes and preprocesses images with client/engine/preprocess.ts (and
 * augments with client/engine/augment.ts), runs the truncated base on the active tfjs backend and returns pooled
 * bottleneck features and/or the fine-tune cut activations.
 *
 * Results are cached on disk under .local/test-cache/, keyed by the model's bytes, the image ids, the input size,
 * the views and the cut, so repeated local runs skip extraction; CI starts empty, so callers keep the subsets small.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { augment, augmentParams } from '../../client/engine/augment';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { loadBaseModel, splitAtFineTune } from '../../client/engine/base-model';
import { scanClassFolders } from '../../tools/ingest/class-folders';
import { decodeFile } from '../../tools/measure/decode-file';
import { readModelArtifacts } from '../../tools/measure/model-artifacts';

export const SHARED_DIR = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const MOBILENET_V2_DIR = join(SHARED_DIR, 'models/mobilenet_v2_0.35_224_no_top');
export const FLOWERS_DIR = join(SHARED_DIR, 'datasets/flowers');
export const MOBILENET_PREPROCESSING = { scale: 1 / 127.5, offset: -1 };
const CACHE_DIR = fileURLToPath(new URL('../../.local/test-cache/', import.meta.url));

export interface ImageFile {
  path: string;
  className: string;
  /** sha256 of the file's bytes, as the dataset manifest names images. */
  id: string;
}

export interface ClassFolder {
  classes: string[];
  images: ImageFile[];
}

/**
 * The images of a `<dir>/<class>/<file>` dataset, read as the seed reads it (classes and files in code-unit
 * order). `perClass` keeps that many images of each class, spread evenly over the sorted file list (a stable
 * subset, not the first few ids).
 */
export async function listClassFolder(dir: string, options: { perClass?: number } = {}): Promise<ClassFolder> {
  const scan = await scanClassFolders(dir, { imagesOnly: true });
  const images: ImageFile[] = [];
  for (const { name: className, dir: folder, files } of scan.classes) {
    const take = Math.min(options.perClass ?? files.length, files.length);
    for (let i = 0; i < take; i++) {
      const path = join(dir, folder, files[Math.floor((i * files.length) / take)]);
      const id = createHash('sha256').update(await readFile(path)).digest('hex');
      images.push({ path, className, id });
    }
  }
  return { classes: scan.classes.map((c) => c.name), images };
}

/** [n, size, size, 3] model input (normalised) for view `view` of each image (0 = the image itself). */
export async function preprocessImages(paths: string[], ids: string[], size: number, view = 0): Promise<tf.Tensor4D> {
  const resized: tf.Tensor3D[] = [];
  try {
    for (const path of paths) resized.push(resizeToSquare(await decodeFile(path), size));
    return tf.tidy(() => {
      let batch = tf.stack(resized) as tf.Tensor4D;
      if (view > 0) batch = augment(batch, ids.map((id) => augmentParams(id, view, DEFAULT_AUGMENTATION)), DEFAULT_AUGMENTATION);
      return normalise(batch, MOBILENET_PREPROCESSING) as tf.Tensor4D;
    });
  } finally {
    tf.dispose(resized);
  }
}

export interface ExtractOptions {
  images: ImageFile[];
  inputSize: number;
  /** Augmented views per image besides view 0 (the image itself). */
  views?: number;
  /** Also return the cut activations of this fine-tune split. */
  fineTuneAt?: number | string;
  modelDir?: string;
  batchSize?: number;
}

export interface ExtractedFeatures {
  /** pooled[view][image]: GlobalAveragePooling2D of the bottleneck. */
  pooled: Float32Array[][];
  /** cut[view][image][cut tensor]: the frozen part's outputs, when fineTuneAt was given. */
  cut: Float32Array[][][] | null;
  cutShapes: number[][];
}

interface CacheHeader {
  images: number;
  views: number;
  pooledSize: number;
  cutShapes: number[][];
}

/** Pooled features (and cut activations) of every view of every image, from the disk cache when possible. */
export async function extractFeatures(options: ExtractOptions): Promise<ExtractedFeatures> {
  const views = options.views ?? 0;
  const modelDir = options.modelDir ?? MOBILENET_V2_DIR;
  const { artifacts, hash } = await readModelArtifacts(modelDir);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        version: 1,
        model: hash,
        size: options.inputSize,
        views,
        fineTuneAt: options.fineTuneAt ?? null,
        preprocessing: MOBILENET_PREPROCESSING,
        ids: options.images.map((i) => i.id),
      }),
    )
    .digest('hex')
    .slice(0, 32);
  const cached = await readCache(key);
  if (cached) return cached;

  const base = await loadBaseModel(artifacts, { bottleneck: 'out_relu', inputSize: options.inputSize });
  const split = options.fineTuneAt === undefined ? null : splitAtFineTune(base, options.fineTuneAt);
  const cutOutputs = split ? split.frozen.outputs : [];
  const extractor = tfl.model({ inputs: base.inputs, outputs: [...cutOutputs, base.outputs[0]] });
  const cutShapes = split ? split.cut.map((c) => c.shape) : [];
  const pooled: Float32Array[][] = [];
  const cut: Float32Array[][][] | null = split ? [] : null;
  const batchSize = options.batchSize ?? 16;
  try {
    for (let view = 0; view <= views; view++) {
      pooled.push([]);
      cut?.push([]);
      for (let start = 0; start < options.images.length; start += batchSize) {
        const batch = options.images.slice(start, start + batchSize);
        const input = await preprocessImages(batch.map((i) => i.path), batch.map((i) => i.id), options.inputSize, view);
        const outputs = tf.tidy(() => {
          const raw = extractor.predict(input);
          const list = Array.isArray(raw) ? raw : [raw];
          const bottleneck = list[list.length - 1];
          return [...list.slice(0, -1), tf.mean(bottleneck, [1, 2])];
        });
        input.dispose();
        const values = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
        tf.dispose(outputs);
        const pooledValues = values[values.length - 1];
        const pooledSize = pooledValues.length / batch.length;
        batch.forEach((_, i) => {
          pooled[view].push(pooledValues.slice(i * pooledSize, (i + 1) * pooledSize));
          cut?.[view].push(
            cutShapes.map((shape, c) => {
              const size = shape.reduce((a, b) => a * b, 1);
              return values[c].slice(i * size, (i + 1) * size);
            }),
          );
        });
      }
    }
  } finally {
    base.dispose();
  }
  const result = { pooled, cut, cutShapes };
  await writeCache(key, result);
  return result;
}

async function readCache(key: string): Promise<ExtractedFeatures | null> {
  let header: CacheHeader;
  let bytes: Buffer;
  try {
    header = JSON.parse(await readFile(join(CACHE_DIR, `${key}.json`), 'utf8')) as CacheHeader;
    bytes = await readFile(join(CACHE_DIR, `${key}.bin`));
  } catch {
    return null;
  }
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const cutSizes = header.cutShapes.map((s) => s.reduce((a, b) => a * b, 1));
  const perImage = header.pooledSize + cutSizes.reduce((a, b) => a + b, 0);
  if (floats.length !== perImage * header.images * (header.views + 1)) return null;
  const pooled: Float32Array[][] = [];
  const cut: Float32Array[][][] | null = cutSizes.length ? [] : null;
  let offset = 0;
  for (let view = 0; view <= header.views; view++) {
    pooled.push([]);
    cut?.push([]);
    for (let i = 0; i < header.images; i++) {
      pooled[view].push(floats.subarray(offset, (offset += header.pooledSize)));
      cut?.[view].push(cutSizes.map((size) => floats.subarray(offset, (offset += size))));
    }
  }
  return { pooled, cut, cutShapes: header.cutShapes };
}

async function writeCache(key: string, features: ExtractedFeatures): Promise<void> {
  await mkdir(CACHE_DIR, { recursive: true });
  const parts: Float32Array[] = [];
  features.pooled.forEach((images, view) =>
    images.forEach((pooled, i) => parts.push(pooled, ...(features.cut?.[view][i] ?? []))),
  );
  const header: CacheHeader = {
    images: features.pooled[0].length,
    views: features.pooled.length - 1,
    pooledSize: features.pooled[0][0].length,
    cutShapes: features.cutShapes,
  };
  // Write then rename, so a test file running in parallel never reads half a cache entry.
  const tmp = `.${process.pid}.tmp`;
  await writeFile(join(CACHE_DIR, `${key}.bin${tmp}`), Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  await writeFile(join(CACHE_DIR, `${key}.json${tmp}`), JSON.stringify(header));
  await rename(join(CACHE_DIR, `${key}.bin${tmp}`), join(CACHE_DIR, `${key}.bin`));
  await rename(join(CACHE_DIR, `${key}.json${tmp}`), join(CACHE_DIR, `${key}.json`));
}
