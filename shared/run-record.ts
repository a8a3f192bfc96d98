/**
 * A training run as the page keeps it between visits (IndexedDB store `runs`): the dataset, base model and
 * settings it trains with, its cache keys, and what storage made of it. The schemas are the one normaliser: a
 * new run's settings and every record read back pass them, and a record an older page saved gets the values its
 * run really used where a field did not exist yet. The types are inferred from them.
 */
import * as v from 'valibot';
import { DEFAULT_AUGMENTATION, FILLS, FLIPS, INTERPOLATIONS } from './augmentation';
import { BACKEND_CHOICES, MAX_CHUNK_SIZE, TENSOR_CODECS } from './farm';
import { CLASS_WEIGHTINGS, LEARNING_RATE_SCHEDULES, OPTIMIZERS, VIEWS_PER_EPOCH } from './training';

const Whole = v.pipe(v.number(), v.integer(), v.minValue(0));

export const AugmentationSchema = v.object({
  flip: v.picklist(FLIPS),
  rotation: v.number(),
  zoom: v.number(),
  fill: v.picklist(FILLS),
  interpolation: v.picklist(INTERPOLATIONS),
});

/**
 * The trainer's settings (shared/training.ts TrainSettings) with every optional one given, and how the page's
 * workers run them. Ranges are the trainer's to check (checkSettings); this says what each field is.
 */
export const RunSettingsSchema = v.object({
  seed: Whole,
  split: v.object({
    validation: v.number(),
    test: v.number(),
    fold: v.optional(v.object({ count: Whole, index: Whole })),
  }),
  optimizer: v.picklist(OPTIMIZERS),
  learningRate: v.number(),
  batchSize: Whole,
  headEpochs: Whole,
  fineTuneEpochs: Whole,
  fineTuneAt: v.union([Whole, v.string()]),
  fineTuneLrDivisor: v.number(),
  dropout: v.number(),
  hiddenUnits: Whole,
  augmentViews: Whole,
  // Settings added after runs were first saved: absent, they are what those runs did.
  fineTuneSchedule: v.optional(v.picklist(LEARNING_RATE_SCHEDULES), 'constant'),
  labelSmoothing: v.optional(v.number(), 0),
  viewsPerEpoch: v.optional(v.picklist(VIEWS_PER_EPOCH), 'all'),
  classWeighting: v.optional(v.picklist(CLASS_WEIGHTINGS), 'none'),
  patience: v.optional(Whole, 0),
  /** Farm workers, and stage 2's workers (the trainer and its helpers). */
  workers: v.pipe(Whole, v.minValue(1)),
  backend: v.picklist(BACKEND_CHOICES),
  /** Square side, in pixels, images are resized to before the base model. */
  inputSize: v.pipe(Whole, v.minValue(1)),
  /** Largest batch a farm worker takes at once. */
  maxChunkSize: v.optional(v.pipe(Whole, v.minValue(1)), MAX_CHUNK_SIZE),
});

/** A run's settings as they are kept: every field present. */
export type RunSettings = v.InferOutput<typeof RunSettingsSchema>;
/** Settings as a caller may give them: the ones added later, and the farm's batch, may be left out. */
export type RunSettingsInput = v.InferInput<typeof RunSettingsSchema>;

export const RunRecordSchema = v.object({
  runId: v.pipe(v.string(), v.minLength(1)),
  datasetId: v.pipe(v.string(), v.minLength(1)),
  modelId: v.pipe(v.string(), v.minLength(1)),
  settings: RunSettingsSchema,
  /** Cache model key of the pooled features, and of the cut activations when the run fine-tunes. */
  pooledKey: v.string(),
  cutKey: v.nullable(v.string()),
  /** How augmented views are made; runs saved before it was recorded used the default. */
  augmentation: v.optional(AugmentationSchema, DEFAULT_AUGMENTATION),
  /** Precision of its cached cut activations: float16 unless storage made it uint8. */
  cutCodec: v.optional(v.picklist(TENSOR_CODECS), 'float16'),
  /** ms since the epoch. */
  createdAt: v.number(),
  /** Best validation accuracy reached so far (null before the first epoch), kept up to date after every epoch. */
  bestValAccuracy: v.optional(v.nullable(v.number()), null),
});

export type RunRecord = v.InferOutput<typeof RunRecordSchema>;

/** A stored run record that is not one (another program's, or damaged): it is left where it is. */
export class RunRecordError extends Error {
  override name = 'RunRecordError';
}

/** `value` as a run record, with the defaults of older records filled in; throws RunRecordError saying what is wrong. */
export function parseRunRecord(value: unknown): RunRecord {
  const parsed = v.safeParse(RunRecordSchema, value);
  if (parsed.success) return parsed.output;
  const runId = (value as { runId?: unknown } | null)?.runId;
  const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'record'}: ${issue.message}`).join('; ');
  throw new RunRecordError(`the record of run ${typeof runId === 'string' ? runId : '(no id)'} cannot be read: ${issues}`);
}

/** `settings` as a run keeps them; throws RunRecordError saying which field is wrong. */
export function runSettings(settings: RunSettingsInput): RunSettings {
  const parsed = v.safeParse(RunSettingsSchema, settings);
  if (parsed.success) return parsed.output;
  throw new RunRecordError(`these settings cannot start a run: ${parsed.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`).join('; ')}`);
}
