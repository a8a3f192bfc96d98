/**
 * A real published classifier for the browser tests of the classify-only page: MobileNetV2-0.35 at 224 px with a
 * head trained in Node on the features of flower photos (trainer-fixtures.ts), written as float32 and int8 .tflite
 * files by the export's own code (client/tflite/export-tflite.ts, int8 calibrated on the training photos), with its
 * model card; published through client/api/publications.ts to a running Graft whose publishing is open. Also the
 * TF.js classifier itself, for the answers the page must give, and photos it never trained on.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { modelCardOf, type ModelCard } from '../../shared/model-card';
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import type { TrainSettings } from '../../shared/training';
import { publicationsApi, type PublishInput } from '../../client/api/publications';
import { evaluate } from '../../client/trainer/evaluate';
import { buildClassifier } from '../../client/trainer/export';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { train } from '../../client/trainer/train';
import { exportTflite } from '../../client/tflite/export-tflite';
import { FLOWERS_DIR, MOBILENET_PREPROCESSING, preprocessImages } from './node-features';
import { flowersFixture, loadFlowersBase, sourcesOf, splitOf } from './trainer-fixtures';
import { useBackend } from '../../tools/measure/tf-node';

const INPUT_SIZE = 224;
const PER_CLASS = 24;
const SETTINGS: TrainSettings = { ...DEFAULT_SETTINGS, split: { validation: 0.25, test: 0 }, headEpochs: 8, fineTuneEpochs: 0, augmentViews: 0 };

export interface TrainedClassifier {
  classes: string[];
  card: ModelCard;
  files: Record<'float32' | 'int8', { file: Uint8Array; signature: TfliteSignature }>;
  /** The TF.js classifier's probabilities for image files (decoded and preprocessed in Node). */
  probabilities(paths: string[]): Promise<number[][]>;
  /** Photos of each class the classifier never saw (none of the training or validation subset). */
  unseen(perClass: number): Promise<{ path: string; className: string }[]>;
}

/** Trains the classifier in Node (features cached on disk between runs) and exports its files. */
export async function trainedClassifier(): Promise<TrainedClassifier> {
  await useBackend('wasm');
  const fixture = await flowersFixture({ perClass: PER_CLASS, inputSize: INPUT_SIZE });
  const { classes } = fixture.folder;
  const split = splitOf(fixture, SETTINGS);
  const pooled = sourcesOf(fixture, split, 0, 'pooled');
  const base = await loadFlowersBase(INPUT_SIZE);
  const result = await train({ base, classes, split, settings: SETTINGS, data: { head: { train: pooled.train, validation: pooled.validation } } });
  const evaluation = await evaluate(result.head, pooled.validation, classes, 'validation');
  const model: tfl.LayersModel = buildClassifier(base, result.head);
  const trainingPaths = fixture.folder.images.filter((image) => split.train.includes(image.id)).map((image) => image.path);
  async function* calibration() {
    for (let i = 0; i < trainingPaths.length; i += 16) {
      const batch = await preprocessImages(trainingPaths.slice(i, i + 16), [], INPUT_SIZE);
      yield batch;
      batch.dispose();
    }
  }
  const options = { labels: classes, preprocessing: MOBILENET_PREPROCESSING };
  const float32 = await exportTflite(model, { ...options, kind: 'float32' });
  const int8 = await exportTflite(model, { ...options, kind: 'int8', calibration: calibration() });
  const card = modelCardOf({
    classes,
    base: { id: 'mobilenet_v2_0.35_224_no_top', name: 'MobileNetV2 0.35', inputSize: INPUT_SIZE, preprocessing: MOBILENET_PREPROCESSING },
    dataset: { name: 'Flowers (a subset)', imageCounts: classes.map((c) => fixture.folder.images.filter((i) => i.className === c).length) },
    history: result.history,
    evaluation,
    trainedAt: new Date('2026-05-01T10:00:00Z'),
    graftVersion: '0.1.0',
  });
  const used = new Set(fixture.folder.images.map((image) => image.path));
  return {
    classes,
    card,
    files: { float32: { file: float32.file, signature: float32.signature }, int8: { file: int8.file, signature: int8.signature } },
    async probabilities(paths) {
      const batch = await preprocessImages(paths, [], INPUT_SIZE);
      const output = tf.tidy(() => (model.predict(batch) as tf.Tensor).arraySync() as number[][]);
      batch.dispose();
      return output;
    },
    async unseen(perClass) {
      const photos: { path: string; className: string }[] = [];
      for (const className of classes) {
        const files = (await readdir(join(FLOWERS_DIR, className))).sort().map((f) => join(FLOWERS_DIR, className, f));
        photos.push(...files.filter((path) => !used.has(path)).slice(0, perClass).map((path) => ({ path, className })));
      }
      return photos;
    },
  };
}

/** What a publication of the classifier is asked to hold. */
export function publishInput(classifier: TrainedClassifier, runs: TfliteKind, name = 'Flowers, five kinds'): PublishInput {
  return {
    name,
    description: 'Daisies, dandelions, roses, sunflowers and tulips.\nTrained in the browser with Graft.',
    card: classifier.card,
    models: (['int8', 'float32'] as const).map((kind) => ({ kind, ...classifier.files[kind] })),
    runs,
  };
}

/** Publishes through the API client, as the trainer's page does (the server's publishing must be open). */
export async function publish(origin: string, input: PublishInput) {
  return publicationsApi({ origin }).publish(input);
}
