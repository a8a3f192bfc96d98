/**
 * What the settings form accepts: each field's text -> value, or a message saying in plain words what to
 * enter instead. Pure, no DOM, so the rules are unit-tested in Node.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../../../shared/farm';
import type { RunSettings } from '../../../shared/run-record';
import {
  CLASS_WEIGHTINGS,
  LEARNING_RATE_SCHEDULES,
  OPTIMIZERS,
  VIEWS_PER_EPOCH,
  type ClassWeighting,
  type LearningRateSchedule,
  type OptimizerName,
  type ViewsPerEpoch,
} from '../../../shared/training';

/** What the form edits: a run's settings but the farm's batch size, which is not the visitor's to choose. */
export type FormSettings = Omit<RunSettings, 'maxChunkSize'>;

export type FieldName =
  | 'workers'
  | 'backend'
  | 'inputSize'
  | 'augmentViews'
  | 'viewsPerEpoch'
  | 'headEpochs'
  | 'fineTuneEpochs'
  | 'fineTuneAt'
  | 'learningRate'
  | 'batchSize'
  | 'seed'
  | 'optimizer'
  | 'validationSplit'
  | 'testSplit'
  | 'dropout'
  | 'hiddenUnits'
  | 'fineTuneLrDivisor'
  | 'classWeighting'
  | 'patience'
  | 'fineTuneSchedule'
  | 'labelSmoothing';

export type RawSettings = Record<FieldName, string>;

export interface RulesContext {
  /** Layer names of the chosen base, when known: fine-tune-from is checked against them. */
  layerNames?: readonly string[];
}

export type Validation = { ok: true; settings: FormSettings } | { ok: false; errors: Partial<Record<FieldName, string>> };

const MAX_SEED = 2 ** 32 - 1;

/** The form's text for each field, from settings. */
export function toRaw(settings: FormSettings): RawSettings {
  return {
    workers: String(settings.workers),
    backend: settings.backend,
    inputSize: String(settings.inputSize),
    augmentViews: String(settings.augmentViews),
    viewsPerEpoch: settings.viewsPerEpoch,
    headEpochs: String(settings.headEpochs),
    fineTuneEpochs: String(settings.fineTuneEpochs),
    fineTuneAt: String(settings.fineTuneAt),
    learningRate: String(settings.learningRate),
    batchSize: String(settings.batchSize),
    seed: String(settings.seed),
    optimizer: settings.optimizer,
    validationSplit: String(settings.split.validation),
    testSplit: String(settings.split.test),
    dropout: String(settings.dropout),
    hiddenUnits: String(settings.hiddenUnits),
    fineTuneLrDivisor: String(settings.fineTuneLrDivisor),
    classWeighting: settings.classWeighting,
    patience: String(settings.patience),
    fineTuneSchedule: settings.fineTuneSchedule,
    labelSmoothing: String(settings.labelSmoothing),
  };
}

class FieldError extends Error {}

function number(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new FieldError('Enter a number.');
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw new FieldError(`“${trimmed}” is not a number.`);
  return value;
}

function wholeNumber(text: string, min: number, max: number): number {
  const value = number(text);
  if (!Number.isInteger(value)) throw new FieldError('Enter a whole number.');
  if (value < min || value > max) throw new FieldError(`Enter a whole number from ${min} to ${max}.`);
  return value;
}

function between(text: string, min: number, max: number, { minExclusive = false } = {}): number {
  const value = number(text);
  if ((minExclusive ? value <= min : value < min) || value > max) {
    throw new FieldError(`Enter a number ${minExclusive ? 'above' : 'from'} ${min} ${minExclusive ? 'and at most' : 'to'} ${max}.`);
  }
  return value;
}

function fineTuneAt(text: string, context: RulesContext): number | string {
  const trimmed = text.trim();
  if (trimmed === '') throw new FieldError('Enter a layer number or a layer name.');
  const names = context.layerNames;
  if (/^\d+$/.test(trimmed)) {
    const index = Number(trimmed);
    // 0 is the input layer, and from 1 on nothing would stay frozen (see resolveFineTuneAt).
    const max = names ? names.length - 1 : Number.MAX_SAFE_INTEGER;
    if (index < 2 || index > max) {
      throw new FieldError(names ? `Enter a layer number from 2 to ${max}, or a layer name.` : 'Enter a layer number of 2 or more, or a layer name.');
    }
    return index;
  }
  if (names && !names.includes(trimmed)) throw new FieldError(`This model has no layer named “${trimmed}”.`);
  return trimmed;
}

/** Checks every field; returns the settings, or a message per field that is wrong. */
export function validateSettings(raw: RawSettings, context: RulesContext = {}): Validation {
  const errors: Partial<Record<FieldName, string>> = {};
  function field<T>(name: FieldName, parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      errors[name] = error.message;
      return undefined as T;
    }
  }
  const workers = field('workers', () => wholeNumber(raw.workers, 1, 64));
  const backend = field('backend', () => {
    if (!(BACKEND_CHOICES as readonly string[]).includes(raw.backend)) throw new FieldError('Choose a backend.');
    return raw.backend as BackendChoice;
  });
  const inputSize = field('inputSize', () => {
    const size = wholeNumber(raw.inputSize, 32, 1024);
    if (size % 32 !== 0) throw new FieldError(`The base halves the image five times, so use a multiple of 32 (e.g. ${Math.max(32, Math.round(size / 32) * 32)}).`);
    return size;
  });
  const augmentViews = field('augmentViews', () => wholeNumber(raw.augmentViews, 0, 50));
  const viewsPerEpoch = field('viewsPerEpoch', () => {
    if (!(VIEWS_PER_EPOCH as readonly string[]).includes(raw.viewsPerEpoch)) throw new FieldError('Choose what each epoch trains on.');
    return raw.viewsPerEpoch as ViewsPerEpoch;
  });
  const headEpochs = field('headEpochs', () => wholeNumber(raw.headEpochs, 1, 1000));
  const fineTuneEpochs = field('fineTuneEpochs', () => wholeNumber(raw.fineTuneEpochs, 0, 1000));
  const fineTuneAtValue = field('fineTuneAt', () => fineTuneAt(raw.fineTuneAt, context));
  const learningRate = field('learningRate', () => between(raw.learningRate, 0, 1, { minExclusive: true }));
  const batchSize = field('batchSize', () => wholeNumber(raw.batchSize, 1, 4096));
  const seed = field('seed', () => wholeNumber(raw.seed, 0, MAX_SEED));
  const optimizer = field('optimizer', () => {
    if (!(OPTIMIZERS as readonly string[]).includes(raw.optimizer)) throw new FieldError('Choose an optimizer.');
    return raw.optimizer as OptimizerName;
  });
  const validation = field('validationSplit', () => between(raw.validationSplit, 0.05, 0.5));
  const test = field('testSplit', () => between(raw.testSplit, 0, 0.5));
  if (validation !== undefined && test !== undefined && validation + test > 0.6) {
    errors.testSplit = 'Validation and test together may take at most 0.6 of each class: the rest is what the model learns from.';
  }
  const dropout = field('dropout', () => between(raw.dropout, 0, 0.95));
  const hiddenUnits = field('hiddenUnits', () => wholeNumber(raw.hiddenUnits, 0, 4096));
  const fineTuneLrDivisor = field('fineTuneLrDivisor', () => between(raw.fineTuneLrDivisor, 1, 10000));
  const patience = field('patience', () => wholeNumber(raw.patience, 0, 1000));
  const fineTuneSchedule = field('fineTuneSchedule', () => {
    if (!(LEARNING_RATE_SCHEDULES as readonly string[]).includes(raw.fineTuneSchedule)) throw new FieldError('Choose a schedule.');
    return raw.fineTuneSchedule as LearningRateSchedule;
  });
  const labelSmoothing = field('labelSmoothing', () => between(raw.labelSmoothing, 0, 0.5));
  const classWeighting = field('classWeighting', () => {
    if (!(CLASS_WEIGHTINGS as readonly string[]).includes(raw.classWeighting)) throw new FieldError('Choose how classes are weighted.');
    return raw.classWeighting as ClassWeighting;
  });

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      workers,
      backend,
      inputSize,
      augmentViews,
      viewsPerEpoch,
      headEpochs,
      fineTuneEpochs,
      fineTuneAt: fineTuneAtValue,
      learningRate,
      batchSize,
      seed,
      optimizer,
      split: { validation, test },
      dropout,
      hiddenUnits,
      fineTuneLrDivisor,
      classWeighting,
      patience,
      fineTuneSchedule,
      labelSmoothing,
    },
  };
}
