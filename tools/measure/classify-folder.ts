/**
 * Test accuracy of an exported classifier in Node: every image of a class-folder directory is decoded with sharp
 * (decode-file.ts), squashed and resized by client/farm/preprocess.ts with the model's own preprocessing, and
 * classified with tfjs-layers on the active backend. Files that are not decodable images and classes the model
 * was not trained on are skipped and reported, never counted.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { normalise, resizeToSquare } from '../../client/farm/preprocess';
import { artifactsFromFiles, type ClassifierMetadata } from '../../client/trainer/export';
import { scanClassFolders } from '../ingest/class-folders';
import type { SkippedFile } from '../ingest/skipped';
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
  { model, metadata }: LoadedClassifier,
  log: (line: string) => void,
): Promise<FolderResult> {
  // A local folder read, never stored: links (as in the bench's subsets) are followed wherever they lead.
  const scan = await scanClassFolders(root, { followLinks: true });
  const skipped: SkippedFile[] = [...scan.skipped];
  const perClass: Record<string, number | null> = {};
  let classified = 0;
  let correct = 0;
  for (const folder of scan.classes) {
    const label = metadata.classes.indexOf(folder.name);
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
          images.push(resizeToSquare(await decodeFile(join(root, folder.name, file)), metadata.inputSize));
        } catch (error) {
          skipped.push({ file: `${folder.name}/${file}`, reason: `not a decodable image (${(error as Error).message})` });
        }
      }
      if (images.length === 0) continue;
      const predicted = tf.tidy(() => {
        const input = normalise(tf.stack(images), metadata.preprocessing);
        return tf.argMax(model.predict(input) as tf.Tensor2D, 1);
      });
      const labels = await predicted.data();
      tf.dispose([predicted, ...images]);
      right += labels.filter((l) => l === label).length;
      seen += labels.length;
    }
    perClass[folder.name] = seen > 0 ? right / seen : null;
    classified += seen;
    correct += right;
    log(`  test ${folder.name}: ${right} of ${seen} correct`);
  }
  return { accuracy: classified > 0 ? correct / classified : null, perClass, classified, skipped };
}
