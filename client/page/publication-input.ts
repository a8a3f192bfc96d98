/**
 * What a publication of the classifier in use holds, gathered in the page (nothing here talks to the server): its
 * TFLite files as the export builds and checks them in LiteRT.js (int8 and float32), which one the classify page
 * runs (tflite/verdict.ts runnableKind), labels, its model card, and only when the visitor asks, a few of their
 * photos as small JPEGs. The contract it fills is shared/publication.ts.
 */
import { version as GRAFT_VERSION } from '../../package.json';
import { STORED_IMAGE_SIDE } from '../../shared/image-limits';
import { modelCardOf, type ModelCard } from '../../shared/model-card';
import { labelsFileText, MAX_EXAMPLE_PHOTOS } from '../../shared/publication';
import type { ModelRecord } from '../../shared/records';
import type { TfliteKind } from '../../shared/trainer-messages';
import type { PublishInput } from '../api/publications';
import { loadClassifier } from '../cache/classifier-store';
import { runnableKind, type CheckedTflite } from '../tflite/verdict';
import type { DatasetChoice } from './dataset-source';
import { sampleFromFile } from './sample-image';

/** What a publication is gathered from: the session's choices and the classifier in use. */
export interface PublicationSource {
  readonly model: ModelRecord | null;
  readonly dataset: DatasetChoice | null;
  /** The run whose classifier classify and export use now, or null when there is none. */
  readonly classifierRunId: string | null;
  /** The classifier as a .tflite file of `kind`, checked in LiteRT.js on the held-out images. */
  exportTflite(kind: TfliteKind): Promise<CheckedTflite>;
}

/** The example photos a publication holds if the visitor ticks the box. */
export interface ExampleOffer {
  /** Photos of each class (fewer where a class has fewer). */
  perClass: number;
  count: number;
  /** Their shorter side is at most this many pixels. */
  side: number;
}

/** As many photos of each class as MAX_EXAMPLE_PHOTOS allows, at least one (then only the first classes get one). */
export function exampleOffer(dataset: DatasetChoice, classes: readonly string[]): ExampleOffer {
  const perClass = Math.max(1, Math.floor(MAX_EXAMPLE_PHOTOS / Math.max(1, classes.length)));
  const counts = imageCounts(dataset, classes);
  const count = Math.min(MAX_EXAMPLE_PHOTOS, counts.reduce((sum, n) => sum + Math.min(perClass, n), 0));
  return { perClass, count, side: STORED_IMAGE_SIDE };
}

const imageCounts = (dataset: DatasetChoice, classes: readonly string[]) =>
  classes.map((name) => dataset.images.reduce((n, image) => n + (image.class === name ? 1 : 0), 0));

/** The offered photos, the first of each class in the dataset's order, as JPEGs at most `side` px on the shorter side. */
async function examplePhotos(dataset: DatasetChoice, classes: readonly string[]): Promise<{ class: string; jpeg: Uint8Array }[]> {
  const { perClass, count } = exampleOffer(dataset, classes);
  const chosen = classes.flatMap((name) => dataset.images.filter((image) => image.class === name).slice(0, perClass)).slice(0, count);
  return Promise.all(chosen.map(async (image) => ({ class: image.class, jpeg: new Uint8Array((await sampleFromFile(await image.bytes())).bytes) })));
}

export interface PublicationRequest {
  name: string;
  description: string;
  /** Upload example photos too (the visitor's own: off unless they tick it). */
  examples: boolean;
}

/** What a step of the gathering is doing, for the page to say. */
export type GatherStep = 'int8' | 'float32' | 'examples';

/**
 * The publication of the classifier in use. `build` makes (or gives again) the checked TFLite file of a kind. Throws
 * an Error in words when there is nothing publishable: no classifier, its results not saved, the float32 file
 * failing its check. An int8 file that fails its check is left out: the float32 one is published alone.
 */
export async function gatherPublication(
  source: PublicationSource,
  request: PublicationRequest,
  build: (kind: TfliteKind) => Promise<CheckedTflite>,
  onStep: (step: GatherStep) => void = () => {},
): Promise<PublishInput> {
  const runId = source.classifierRunId;
  if (!runId || !source.model) throw new Error('train a classifier first: there is nothing to publish yet');
  const saved = await loadClassifier(runId);
  if (!saved?.history || !saved.evaluation) {
    throw new Error('this classifier’s results are not saved on this browser (its model card needs them): train it again to publish it');
  }
  onStep('int8');
  const int8 = await build('int8');
  onStep('float32');
  const float32 = await build('float32');
  if (!float32.zip) throw new Error(`the float32 TFLite file did not pass its check, so it cannot be published: ${float32.failure ?? 'no file'}`);
  const models = [int8, float32].flatMap((built) => (built.zip ? [{ kind: built.kind, file: built.file, signature: built.signature }] : []));
  const dataset = source.dataset;
  if (!dataset) throw new Error('choose the dataset this classifier was trained on first');
  const card = cardOf(source.model, dataset, saved, float32.signature.input.shape[1]!);
  onStep('examples');
  const examples = request.examples ? await examplePhotos(dataset, saved.classes) : [];
  return { name: request.name, description: request.description, card, models, runs: runnableKind(int8), examples };
}

function cardOf(
  model: ModelRecord,
  dataset: DatasetChoice,
  saved: NonNullable<Awaited<ReturnType<typeof loadClassifier>>>,
  inputSize: number,
): ModelCard {
  return modelCardOf({
    classes: saved.classes,
    base: { id: model.id, name: model.name, inputSize, preprocessing: model.preprocessing },
    dataset: { name: dataset.name, imageCounts: imageCounts(dataset, saved.classes) },
    history: saved.history!,
    evaluation: saved.evaluation!,
    trainedAt: new Date(saved.savedAt),
    graftVersion: GRAFT_VERSION,
  });
}

/** Bytes of a publication's files (what the server counts against its limit, less the manifest and framing). */
export function fileBytesOf(input: PublishInput): number {
  const labels = new TextEncoder().encode(labelsFileText(input.card.classes)).byteLength;
  const models = input.models.reduce((sum, m) => sum + m.file.byteLength, 0);
  return models + labels + (input.examples ?? []).reduce((sum, e) => sum + e.jpeg.byteLength, 0);
}
