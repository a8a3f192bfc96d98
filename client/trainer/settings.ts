/**
 * Default training settings and the check every run's settings pass before anything is built or trained.
 * The defaults follow the Keras recipe (fine_tune_at 100, fine-tune at lr/10, Dropout 0.2 head) except where
 * measurements on flowers with MobileNetV2-0.35 said otherwise (see DEFAULT_SETTINGS).
 */
import type { TrainSettings } from '../../shared/training';

/**
 * Measured on flowers (5 classes), MobileNetV2-0.35 @224, head on pooled features, 10 epochs:
 * Adam at the seeds' 1e-4 was still far from converged; 1e-3 reaches its plateau in a few epochs.
 */
export const DEFAULT_SETTINGS: TrainSettings = {
  seed: 42,
  split: { validation: 0.2, test: 0 },
  optimizer: 'adam',
  learningRate: 1e-3,
  batchSize: 32,
  headEpochs: 10,
  fineTuneEpochs: 5,
  fineTuneAt: 100,
  fineTuneLrDivisor: 10,
  dropout: 0.2,
  hiddenUnits: 0,
  augmentViews: 0,
};

function isInteger(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** Throws a TypeError naming every field that is out of range; returns the settings otherwise. */
export function checkSettings(settings: TrainSettings): TrainSettings {
  const problems: string[] = [];
  const s = settings;
  if (!isInteger(s.seed, 0) || s.seed > 0xffffffff) problems.push('seed must be an integer in 0..2^32-1');
  const { validation, test } = s.split ?? {};
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) {
    problems.push('split.validation and split.test must be >= 0 and leave some images for training');
  }
  if (s.optimizer !== 'adam' && s.optimizer !== 'rmsprop') problems.push("optimizer must be 'adam' or 'rmsprop'");
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate))) problems.push('learningRate must be > 0');
  if (!isInteger(s.batchSize, 1)) problems.push('batchSize must be an integer >= 1');
  if (!isInteger(s.headEpochs, 0)) problems.push('headEpochs must be an integer >= 0');
  if (!isInteger(s.fineTuneEpochs, 0)) problems.push('fineTuneEpochs must be an integer >= 0');
  if (!(isInteger(s.fineTuneAt, 0) || (typeof s.fineTuneAt === 'string' && s.fineTuneAt.length > 0))) {
    problems.push('fineTuneAt must be a layer index or a layer name');
  }
  if (!(s.fineTuneLrDivisor > 0 && Number.isFinite(s.fineTuneLrDivisor))) problems.push('fineTuneLrDivisor must be > 0');
  if (!(s.dropout >= 0 && s.dropout < 1)) problems.push('dropout must be in [0, 1)');
  if (!isInteger(s.hiddenUnits, 0)) problems.push('hiddenUnits must be an integer >= 0');
  if (!isInteger(s.augmentViews, 0)) problems.push('augmentViews must be an integer >= 0');
  if (problems.length > 0) throw new TypeError(`invalid training settings: ${problems.join('; ')}`);
  return settings;
}
