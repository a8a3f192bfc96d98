/**
 * The model card of a published classifier: what it tells apart, what it was built from and how well it did.
 * The publication manifest (./publication.ts) carries it; the classify page shows it. Valibot schemas are the
 * single source; the types are inferred from them. Numbers are as the trainer reports them (fractions 0..1).
 */
import * as v from 'valibot';
import { MAX_NAME_LENGTH, nameProblem } from './names';
import { PreprocessingSchema } from './records';
import type { Evaluation, History } from './training';

/** Most classes a published classifier may have (its confusion matrix holds the square of this). */
export const MAX_PUBLISHED_CLASSES = 200;
/** Longest class name; labels.txt holds one a line, so none spans lines. */
export const MAX_CARD_CLASS_NAME_LENGTH = 200;

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const Text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

export const CardClassNameSchema = v.pipe(
  Text(MAX_CARD_CLASS_NAME_LENGTH),
  v.check((name) => !/[\r\n]/.test(name), 'may not span lines (labels.txt holds one class a line)'),
);

export const StageAccuracySchema = v.object({
  stage: v.picklist(['head', 'fine-tune']),
  /** Epochs the stage ran. */
  epochs: Count,
  /** Validation accuracy of the epoch the stage kept. */
  valAccuracy: Fraction,
});
export type StageAccuracy = v.InferOutput<typeof StageAccuracySchema>;

export const ModelCardSchema = v.object({
  classes: v.pipe(v.array(CardClassNameSchema), v.minLength(2), v.maxLength(MAX_PUBLISHED_CLASSES)),
  base: v.object({
    /** The base model's id in /api/models. */
    id: v.pipe(v.string(), v.maxLength(MAX_NAME_LENGTH), v.check((id) => nameProblem(id) === null, 'must be a model id')),
    name: Text(200),
    /** Square input side in pixels: the classifier's input is [1, inputSize, inputSize, 3]. */
    inputSize: v.pipe(Count, v.minValue(16), v.maxValue(1024)),
  }),
  /** Pixels 0..255 become x * scale + offset before a float model's input. */
  preprocessing: PreprocessingSchema,
  dataset: v.object({
    name: Text(200),
    /** Images per class, in the order of classes. */
    imageCounts: v.array(Count),
  }),
  /** Each stage that ran, in order: head, then fine-tune. */
  stages: v.pipe(v.array(StageAccuracySchema), v.minLength(1), v.maxLength(2)),
  /** The classifier on its held-out images. */
  evaluation: v.object({
    split: v.picklist(['validation', 'test']),
    accuracy: Fraction,
    /** Per class, in the order of classes; null for a class with no held-out image. */
    perClassAccuracy: v.array(v.nullable(Fraction)),
    /** confusion[true][predicted] image counts. */
    confusion: v.array(v.array(Count)),
  }),
  /** When the classifier was trained (ISO 8601, UTC). */
  trainedAt: v.pipe(v.string(), v.isoTimestamp()),
  /** Graft's version (package.json) that trained it. */
  graftVersion: v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]{1,40})?$/, 'must be a version like 0.1.0')),
});
export type ModelCard = v.InferOutput<typeof ModelCardSchema>;

/** What is inconsistent inside a card the schema accepted (lengths that must equal the class count), or []. */
export function cardProblems(card: ModelCard): string[] {
  const n = card.classes.length;
  const problems: string[] = [];
  if (new Set(card.classes).size !== n) problems.push('card.classes: every class must have a distinct name');
  if (card.dataset.imageCounts.length !== n) {
    problems.push(`card.dataset.imageCounts: has ${card.dataset.imageCounts.length} counts for ${n} classes`);
  }
  if (card.evaluation.perClassAccuracy.length !== n) {
    problems.push(`card.evaluation.perClassAccuracy: has ${card.evaluation.perClassAccuracy.length} values for ${n} classes`);
  }
  const { confusion } = card.evaluation;
  if (confusion.length !== n || confusion.some((row) => row.length !== n)) {
    problems.push(`card.evaluation.confusion: must be ${n} rows of ${n} counts`);
  }
  const stages = card.stages.map((s) => s.stage).join(',');
  if (stages !== 'head' && stages !== 'head,fine-tune') problems.push(`card.stages: must be head, then fine-tune if it ran (got ${stages})`);
  return problems;
}

export interface ModelCardSource {
  classes: readonly string[];
  base: { id: string; name: string; inputSize: number; preprocessing: { scale: number; offset: number } };
  dataset: { name: string; imageCounts: readonly number[] };
  history: History;
  evaluation: Evaluation;
  trainedAt: Date;
  graftVersion: string;
}

/**
 * The card of a finished run: each stage's validation accuracy is that of the epoch the stage kept (its last
 * epoch in histories saved before best epochs were kept); a class with no held-out image has accuracy null.
 */
export function modelCardOf(source: ModelCardSource): ModelCard {
  const { history, evaluation } = source;
  const stages = (['head', 'fine-tune'] as const).flatMap((stage): StageAccuracy[] => {
    const epochs = history.epochs.filter((e) => e.stage === stage);
    if (epochs.length === 0) return [];
    const keptEpoch = history.kept?.[stage];
    const kept = history.epochs.find((e) => e.epoch === keptEpoch) ?? epochs[epochs.length - 1]!;
    return [{ stage, epochs: epochs.length, valAccuracy: kept.valAccuracy }];
  });
  return {
    classes: [...source.classes],
    base: { id: source.base.id, name: source.base.name, inputSize: source.base.inputSize },
    preprocessing: { ...source.base.preprocessing },
    dataset: { name: source.dataset.name, imageCounts: [...source.dataset.imageCounts] },
    stages,
    evaluation: {
      split: evaluation.split,
      accuracy: evaluation.accuracy,
      perClassAccuracy: evaluation.perClassAccuracy.map((a) => (Number.isFinite(a) ? a : null)),
      confusion: evaluation.confusion.map((row) => [...row]),
    },
    trainedAt: source.trainedAt.toISOString(),
    graftVersion: source.graftVersion,
  };
}
