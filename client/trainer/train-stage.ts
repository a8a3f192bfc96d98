/**
 * One stage of a training run (train.ts runs the two): its epochs from a given one on, each a pass over the
 * training samples in batches and then over the validation samples.
 * With augmented views an epoch trains on all of them or on one view of each image in turn (viewsPerEpoch). Each
 * epoch shuffles with a seed derived from the run's seed and the epoch number, so a run resumed from a checkpoint
 * continues as an uninterrupted one would. Dropout masks are drawn per sample (sample-dropout.ts), so a stage can
 * split every batch between the trainer and helper workers (data-parallel.ts) and still make the run one worker makes.
 * A checkpoint (plain data) is handed out after every epoch; an AbortSignal stops the stage between batches.
 * The stage ends with the weights of its epoch of lowest validation loss (Keras's restore_best_weights; the loss
 * rather than the accuracy because on a few hundred validation images the accuracy moves in coarse steps and ties,
 * while the loss also sees confidence), optionally stopping once it has not improved for `patience` epochs.
 * A loss that diverges (divergence.ts) stops the stage before that epoch's checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BestEpoch, EpochRecord, History, LearningRateSchedule, Stage, TrainingState, TrainSettings } from '../../shared/training';
import type { BatchProgress } from '../../shared/trainer-messages';
import { hashSeed } from '../../shared/seeded-random';
import { nextTask } from '../engine/next-task';
import { arraysToOptimizer, arraysToWeights, optimizerToArrays, weightsToArrays } from './checkpoint';
import { predictInParts, splitIndices, stepInParts, type GradientHelper, type HelperFailure, type StepSettings } from './data-parallel';
import { epochLossDivergence, TrainingDivergedError } from './divergence';
import { validationMetrics } from './evaluate';
import { scheduledLearningRate } from './schedule';
import type { SampleDropout } from './sample-dropout';
import { seededShuffle } from './split';
import { epochSampleIndices, type SampleBatch, type SampleSource } from './sources';

export interface StageData {
  train: SampleSource;
  validation: SampleSource;
}

export interface TrainCallbacks {
  onBatch?(progress: BatchProgress): void;
  onEpoch?(record: EpochRecord, history: History): void;
  /** Called after every epoch and awaited before the next starts (store it; it is a fresh copy). */
  onCheckpoint?(checkpoint: TrainingState): void | Promise<void>;
  /**
   * Stops the run after the current batch; the last checkpoint handed out is the state to resume from. The loop
   * yields to the event loop before every batch, so an abort posted from another task (a worker's stop message)
   * is seen even when the batches come from memory.
   */
  signal?: AbortSignal;
  /** A fine-tuning helper failed; the trainer computes its parts itself from then on. */
  onHelperLost?(message: string): void;
}

/** What both stages of a run share. */
export interface RunShared {
  settings: TrainSettings;
  /** The run's history, which each epoch extends. */
  history: History;
  callbacks: TrainCallbacks;
  snapshotBase: Pick<TrainingState, 'settings' | 'split' | 'classes'>;
  /** Loss weight of each class, or null for unweighted. */
  classWeights: Float32Array | null;
  dropout: SampleDropout;
}

export interface StageRun extends RunShared {
  model: tfl.LayersModel;
  /** The stage's best epoch so far (from a checkpoint, or stage 2's starting point), or null. */
  best: BestEpoch | null;
  stage: Stage;
  /** The stage's initial learning rate, and how it changes over the stage's steps (epochs start..end-1). */
  learningRate: number;
  schedule: LearningRateSchedule;
  start: number;
  /** Epochs first..end-1, numbered across both stages. */
  first: number;
  end: number;
  /** Optimizer state to continue from (a checkpoint of this stage), or null for a fresh optimizer. */
  optimizerWeights: TrainingState['optimizerWeights'] | null;
  data: StageData;
  /** Workers that compute parts of each batch and of each validation pass (data-parallel.ts). */
  helpers: readonly GradientHelper[];
}

/** Trains the stage's remaining epochs, then leaves its model with its best epoch's weights. */
export async function runStage(stage: StageRun): Promise<void> {
  const best = stage.first < stage.end ? await trainEpochs(stage) : stage.best;
  // The stage ends with its best epoch's weights, also when a resume finds it already ended.
  if (best) arraysToWeights(stage.model.trainableWeights, best.weights);
}

/** What every epoch of a stage trains with. */
interface StageTools {
  variables: tfl.LayerVariable[];
  optimizer: tf.Optimizer;
  stepSettings: StepSettings;
  helpers: LiveHelpers;
}

/** The stage's epochs from stage.first on (until patience stops it); returns its best epoch. */
async function trainEpochs(stage: StageRun): Promise<BestEpoch | null> {
  const { model, settings, data } = stage;
  const variables = model.trainableWeights;
  let best = stage.best;
  const optimizer = makeOptimizer(settings, stage.learningRate);
  try {
    if (stage.optimizerWeights) await arraysToOptimizer(optimizer, stage.optimizerWeights, variables);
    const classCount = model.outputs[0].shape[1] as number;
    const stepSettings: StepSettings = { seed: settings.seed, classCount, classWeights: stage.classWeights, labelSmoothing: settings.labelSmoothing ?? 0 };
    if (data.train.imageIds.length === 0) throw new Error('there are no training samples');
    const tools: StageTools = { variables, optimizer, stepSettings, helpers: new LiveHelpers(stage.helpers, stage.callbacks) };

    for (let epoch = stage.first; epoch < stage.end; epoch++) {
      const started = performance.now();
      const trained = await trainBatches(stage, tools, epoch, epochBatches(settings, data.train.imageIds.length, epoch));
      const validated = await predictInParts(model, variables, data.validation, tools.helpers.current);
      tools.helpers.drop(validated.failures);
      const record: EpochRecord = {
        epoch,
        stage: stage.stage,
        ...trained,
        ...validationMetrics(validated.predictions),
        seconds: (performance.now() - started) / 1000,
      };
      // The training loss, not the validation loss: that one is NaN when there are no validation images.
      const divergence = epochLossDivergence(record.loss, classCount);
      if (divergence !== null) throw new TrainingDivergedError(stage.stage, epoch, stage.learningRate, divergence);
      const kept = await keepEpoch(stage, record, best, variables);
      best = kept.best;
      await handOutCheckpoint(stage, tools, epoch, kept);
      if (kept.stalled) break;
    }
    return best;
  } finally {
    optimizer.dispose();
  }
}

function makeOptimizer(settings: TrainSettings, learningRate: number): tf.Optimizer {
  return settings.optimizer === 'adam' ? tf.train.adam(learningRate) : tf.train.rmsprop(learningRate);
}

/** The stage's helpers still at work: one that fails is dropped for the rest of the stage; its parts are the trainer's from then on. */
class LiveHelpers {
  constructor(
    private helpers: readonly GradientHelper[],
    private readonly callbacks: TrainCallbacks,
  ) {}

  get current(): readonly GradientHelper[] {
    return this.helpers;
  }

  drop(failures: readonly HelperFailure[]): void {
    for (const { helper, error } of failures) {
      this.helpers = this.helpers.filter((h) => h !== helper);
      this.callbacks.onHelperLost?.(`a fine-tuning helper failed (${error.message}); ${1 + this.helpers.length} worker(s) go on`);
    }
  }
}

/** An epoch's training samples (all views, or this epoch's one, sources.ts) in its seeded order, cut into batches. */
function epochBatches(settings: TrainSettings, sampleCount: number, epoch: number): number[][] {
  const order = seededShuffle(
    epochSampleIndices(sampleCount, settings.augmentViews + 1, settings.viewsPerEpoch ?? 'all', epoch),
    hashSeed(`${settings.seed}:shuffle:${epoch}`),
  );
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += settings.batchSize) batches.push(order.slice(i, i + settings.batchSize));
  return batches;
}

/** One step per batch, reporting each; returns the epoch's mean training loss and accuracy. */
async function trainBatches(
  stage: StageRun,
  { variables, optimizer, stepSettings, helpers }: StageTools,
  epoch: number,
  batches: number[][],
): Promise<Pick<EpochRecord, 'loss' | 'accuracy'>> {
  const { model, data, callbacks } = stage;
  const stageSteps = (stage.end - stage.start) * batches.length;
  const partsOf = (b: number) => splitIndices(batches[b], 1 + helpers.current.length);
  let lossSum = 0;
  let correctSum = 0;
  let seen = 0;
  // Fetch each worker's part of the next batch while this one trains: a streaming source reads IndexedDB meanwhile.
  let parts = partsOf(0);
  let next = prefetch(data.train, parts[0]);
  for (let b = 0; b < batches.length; b++) {
    await nextTask();
    callbacks.signal?.throwIfAborted();
    const batch = await next;
    const current = parts;
    if (b + 1 < batches.length) {
      parts = partsOf(b + 1);
      next = prefetch(data.train, parts[0]);
    }
    const upcoming = b + 1 < batches.length ? parts : [];
    const step = (epoch - stage.start) * batches.length + b;
    setLearningRate(optimizer, scheduledLearningRate(stage.learningRate, stage.schedule, step, stageSteps));
    const result = await stepInParts(
      { model, variables, optimizer, dropout: stage.dropout, settings: stepSettings, source: data.train, helpers: helpers.current },
      current,
      batch,
      epoch,
      upcoming,
    );
    helpers.drop(result.failures);
    if (!Number.isFinite(result.loss)) {
      throw new TrainingDivergedError(stage.stage, epoch, stage.learningRate, `the loss of batch ${b + 1} is ${result.loss}`);
    }
    const n = batches[b].length;
    lossSum += result.loss * n;
    correctSum += result.correct;
    seen += n;
    callbacks.onBatch?.({
      stage: stage.stage,
      epoch,
      batch: b + 1,
      batches: batches.length,
      loss: lossSum / seen,
      accuracy: correctSum / seen,
    });
  }
  return { loss: lossSum / seen, accuracy: correctSum / seen };
}

/** tfjs's Adam and RMSprop read their `learningRate` field at every step; it is not in their public types. */
function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}

function prefetch(source: SampleSource, indices: number[]): Promise<SampleBatch> {
  const promise = source.batch(indices);
  // An abort may leave this promise unawaited; its failure must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return promise;
}

/**
 * Adds the epoch to the history, as the stage's best when its validation loss is the lowest yet, and reports it.
 * `stalled`: patience ends the stage here.
 */
async function keepEpoch(
  stage: StageRun,
  record: EpochRecord,
  best: BestEpoch | null,
  variables: tfl.LayerVariable[],
): Promise<{ best: BestEpoch; stalled: boolean }> {
  const { history, callbacks } = stage;
  const { epoch } = record;
  const patience = stage.settings.patience ?? 0;
  history.epochs.push(record);
  if (best === null || record.valLoss < best.valLoss) {
    best = { epoch, valLoss: record.valLoss, weights: await weightsToArrays(variables) };
  }
  history.kept = { ...history.kept, [stage.stage]: best.epoch };
  const stalled = patience > 0 && epoch - best.epoch >= patience && epoch + 1 < stage.end;
  if (stalled) history.stoppedEarly = { ...history.stoppedEarly, [stage.stage]: epoch };
  callbacks.onEpoch?.(record, structuredClone(history));
  return { best, stalled };
}

/** Hands the state after `epoch` to onCheckpoint, awaited. */
async function handOutCheckpoint(
  stage: StageRun,
  { variables, optimizer }: StageTools,
  epoch: number,
  { best, stalled }: { best: BestEpoch; stalled: boolean },
): Promise<void> {
  const { callbacks } = stage;
  if (!callbacks.onCheckpoint) return;
  await callbacks.onCheckpoint({
    ...structuredClone(stage.snapshotBase),
    history: structuredClone(stage.history),
    stage: stage.stage,
    // A stage stopped early is over: a resume goes on with the next stage.
    epoch: stalled ? stage.end : epoch + 1,
    trainableWeights: await weightsToArrays(variables),
    optimizerWeights: await optimizerToArrays(optimizer),
    best: structuredClone(best),
  });
}
