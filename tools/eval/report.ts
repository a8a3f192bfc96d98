/**
 * `npm run eval`'s result: the skipped files as log lines, and the one JSON object of the last stdout line (a
 * stable contract: keys are added, never renamed or dropped). With --folds, accuracies are means over the folds.
 */
import type { History, Stage } from '../../shared/training';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { logLine } from '../measure/project';
import type { EvalOptions } from './options';
import type { EvalTests } from './test-exports';
import type { EvalTraining } from './train-in-page';

/** Validation accuracy of the weights a stage kept (its best epoch; the last one in a history without `kept`). */
function keptOfStage({ epochs, kept }: History, stage: Stage): number | null {
  const epoch = kept?.[stage];
  return (epoch === undefined ? epochs.filter((e) => e.stage === stage).at(-1) : epochs.find((e) => e.epoch === epoch))?.valAccuracy ?? null;
}

export function evalReport(options: EvalOptions, training: EvalTraining, { tests, exportTest, exportBytes }: EvalTests): Record<string, unknown> {
  const log = logLine;
  const { seeded, runs, published, workers, trainerBackend, classes, settings: settingsUsed } = training;
  const test = tests[0];
  const agreeing = exportTest.predictions.filter((p, i) => p === test.predictions[i]).length;
  for (const s of test.skipped) log(`  skipped test ${s.file}: ${s.reason}`);
  const extraction = runs[0].run.extraction;
  const trainSkipped = [...seeded.skipped, ...(extraction?.failed ?? [])];
  for (const s of trainSkipped) log(`  skipped training ${s.file}: ${s.reason}`);

  const folds = runs.map(({ run }, i) => ({
    head_val_accuracy: keptOfStage(run.history!, 'head'),
    fine_tune_val_accuracy: options.fineTuneEpochs > 0 ? keptOfStage(run.history!, 'fine-tune') : null,
    test_accuracy: tests[i].accuracy,
  }));
  const stage = (key: 'head_val_accuracy' | 'fine_tune_val_accuracy') =>
    folds[0][key] === null ? { mean: null, std: null } : meanAndStd(folds.map((f) => f[key]!));
  const finalStage = options.fineTuneEpochs > 0 ? 'fine_tune_val_accuracy' : 'head_val_accuracy';
  const validation = meanAndStd(folds.map((f) => f[finalStage]!));
  return {
    test_accuracy: tests.every((t) => t.accuracy !== null) ? meanAndStd(tests.map((t) => t.accuracy!)).mean : null,
    per_class: test.perClass,
    head_val_accuracy: stage('head_val_accuracy').mean,
    fine_tune_val_accuracy: stage('fine_tune_val_accuracy').mean,
    backend: trainerBackend,
    farm_backends: [...new Set(extraction?.backends.map((b) => b.backend) ?? [])],
    // The forward pass's engine in each extraction worker: LiteRT.js (with its accelerator) or TF.js.
    farm_engines: [...new Set(extraction?.backends.map((b) => (b.liteRt ? `litert-${b.liteRt.accelerator}` : `tfjs-${b.backend}`)) ?? [])],
    workers,
    images_per_s: extraction && extraction.seconds > 0 ? extraction.done / extraction.seconds : null,
    // performance.now() counts from the start of this process: the whole command's wall time.
    seconds: performance.now() / 1000,
    classes,
    test_images: test.classified,
    train_images: extraction?.done ?? null,
    head_epochs: options.headEpochs,
    fine_tune_epochs: options.fineTuneEpochs,
    skipped: test.skipped,
    train_skipped: trainSkipped,
    folds: options.folds,
    val_accuracy_mean: validation.mean,
    val_accuracy_std: validation.std,
    head_val_accuracy_std: stage('head_val_accuracy').std,
    fine_tune_val_accuracy_std: stage('fine_tune_val_accuracy').std,
    augment_views: options.augmentViews ?? DEFAULT_SETTINGS.augmentViews,
    augment_rotation: options.augmentation.rotation,
    augment_zoom: options.augmentation.zoom,
    views_per_epoch: settingsUsed.viewsPerEpoch ?? 'all',
    fine_tune_lr: options.fineTuneEpochs > 0 ? DEFAULT_SETTINGS.learningRate / settingsUsed.fineTuneLrDivisor : null,
    fine_tune_schedule: options.fineTuneEpochs > 0 ? (settingsUsed.fineTuneSchedule ?? 'constant') : null,
    fine_tune_at: options.fineTuneEpochs > 0 ? settingsUsed.fineTuneAt : null,
    label_smoothing: settingsUsed.labelSmoothing ?? 0,
    // Summed over the folds: with --cache-dir, extraction counts only what earlier runs had not stored.
    extraction_seconds: runs.reduce((sum, { run }) => sum + (run.extraction?.seconds ?? 0), 0),
    training_seconds: runs.reduce((sum, { run }) => sum + run.history!.epochs.reduce((s, e) => s + e.seconds, 0), 0),
    fold_runs: folds,
    export: options.export,
    export_test_accuracy: exportTest.accuracy,
    export_bytes: exportBytes,
    export_agreement: test.predictions.length > 0 ? agreeing / test.predictions.length : null,
    export_ms_per_image: exportTest.msPerImage,
    published_id: published?.id ?? null,
    publish_bytes: published?.bytes ?? null,
    publish_requests: published?.requests ?? null,
  };
}

/** Mean and sample standard deviation (0 for a single value). */
function meanAndStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}
