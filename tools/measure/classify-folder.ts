/**
 * Test accuracy of an exported classifier in Node: every image of a class-folder directory is decoded with sharp
 * (decode-file.ts), squashed and resized by client/engine/preprocess.ts, and classified by a predictor: the TF.js
 * model with tfjs-layers on the active backend (with the model's own preprocessing), or any other (a .tflite file
 * in LiteRT.js) given the resized pixels 0..255. Files that are not decodable images and classes the model was
 * not trained on are skipped and reported, never counted.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { artifactsFromFiles, type ClassifierMetadata } from '../../client/trainer/export';
import { scanClassFolders } from '../ingest/class-folders';
import type { SkippedFile } from '../../shared/class-folders';
import { decodeFile } from './decode-file';

/** Images classified at once: bounds memory at 224 px. */
const BATCH = 16;

export interface FolderResult {
  /** Correct / classified over all classes, null when nothing could be classified. */
  accuracy: number | null;
  /** Per test class the model knows. */
  perClass: Record<string, number | null>;
  classified: number;
  skipped: SkippedFile[];
  /** Top-1 class index of every classified image, in classification order (the same for every predictor). */
  predictions: number[];
  /** Time the model itself took, per image. */
  msPerImage: number | null;
}

/** Resized pixels 0..255 [n, S, S, 3] -> top-1 class index of each image, and the ms the model itself took. */
export type Predictor = (pixels: tf.Tensor4D) => Promise<{ top1: number[]; ms: number }>;

/** The TF.js model as a predictor. */
export function tfjsPredictor({ model, metadata }: LoadedClassifier): Predictor {
  return async (pixels) => {
    const start = performance.now();
    const predicted = tf.tidy(() => tf.argMax(model.predict(normalise(pixels, metadata.preprocessing)) as tf.Tensor2D, 1));
    const top1 = Array.from(await predicted.data());
    const ms = performance.now() - start;
    predicted.dispose();
    return { top1, ms };
  };
}

export interface LoadedClassifier {
  model: tfl.LayersModel;
  metadata: ClassifierMetadata;
}

/** An exported file pair (model.json text + weights.bin) as a LayersModel and its classifier metadata. */
export async function loadExported(modelJson: string, weightsBin: ArrayBuffer): Promise<LoadedClassifier> {
  const artifacts = artifactsFromFiles(modelJson, weightsBin);
  const metadata = (artifacts.userDefinedMetadata as { classifier?: ClassifierMetadata } | undefined)?.classifier;
  if (!metadata) throw new Error('the exported model.json has no userDefinedMetadata.classifier');
  return { model: await tfl.loadLayersModel(tf.io.fromMemory(artifacts)), metadata };
}

export async function classifyFolder(
  root: string,
  { classes, inputSize }: Pick<LoadedClassifier['metadata'], 'classes' | 'inputSize'>,
  predict: Predictor,
  log: (line: string) => void,
): Promise<FolderResult> {
  // A local folder read, never stored: links (as in the bench's subsets) are followed wherever they lead.
  const scan = await scanClassFolders(root, { followLinks: true });
  const skipped: SkippedFile[] = [...scan.skipped];
  const perClass: Record<string, number | null> = {};
  const predictions: number[] = [];
  let classified = 0;
  let correct = 0;
  let ms = 0;
  for (const folder of scan.classes) {
    const label = classes.indexOf(folder.name);
    if (label < 0) {
      skipped.push({ file: `${folder.name}/`, reason: `class '${folder.name}' was not in training (${folder.files.length} files)` });
      continue;
    }
    let right = 0;
    let seen = 0;
    for (let start = 0; start < folder.files.length; start += BATCH) {
      const images: tf.Tensor3D[] = [];
      for (const file of folder.files.slice(start, start + BATCH)) {
        try {
          images.push(resizeToSquare(await decodeFile(join(root, folder.dir, file)), inputSize));
        } catch (error) {
          skipped.push({ file: `${folder.name}/${file}`, reason: `not a decodable image (${(error as Error).message})` });
        }
      }
      if (images.length === 0) continue;
      const pixels = tf.stack(images) as tf.Tensor4D;
      const { top1: labels, ms: took } = await predict(pixels);
      ms += took;
      tf.dispose([pixels, ...images]);
      predictions.push(...labels);
      right += labels.filter((l) => l === label).length;
      seen += labels.length;
    }
    perClass[folder.name] = seen > 0 ? right / seen : null;
    classified += seen;
    correct += right;
    log(`  test ${folder.name}: ${right} of ${seen} correct`);
  }
  return {
    accuracy: classified > 0 ? correct / classified : null,
    perClass,
    classified,
    skipped,
    predictions,
    msPerImage: classified > 0 ? ms / classified : null,
  };
}
