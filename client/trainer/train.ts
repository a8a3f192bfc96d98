/**
 * The two training stages of the Keras transfer-learning recipe, as a loop the trainer's Web Worker runs:
 * 1. the head on pooled bottleneck features (the base never runs), after measuring the untrained head on
 *    validation (loss0 / accuracy0);
 * 2. optionally, the base's layers from fine_tune_at on plus the head, fed by the cached cut activations (the
 *    frozen layers never run), at learningRate / fineTuneLrDivisor (constant or cosine-decayed per step, see
 *    schedule.ts), epochs numbered on from stage 1.
 * With augmented views an epoch trains on all of them or on one view of each image in turn (viewsPerEpoch).
 * Both stages may train on label-smoothed targets (loss.ts). Dropout masks are drawn per sample (sample-dropout.ts),
 * so stage 2 can split every batch between the trainer and helper workers (data-parallel.ts) and still make the
 * run one worker makes.
 * Every BatchNormalization layer stays in inference mode throughout. Each epoch shuffles with a seed derived from
 * the run's seed and the epoch number, so a run resumed from a checkpoint continues as an uninterrupted one would.
 * A checkpoint (plain data) is handed out after every epoch; an AbortSignal stops the run between batches.
 * Each stage ends with the weights of its epoch of lowest validation loss (Keras's restore_best_weights; the loss
 * rather than the accuracy because on a few hundred validation images the accuracy moves in coarse steps and ties,
 * while the loss also sees confidence), optionally stopping once it has not improved for `patience` epochs. Stage 2
 * counts the head it starts from as a candidate, so fine-tuning that only overfits is undone.
 * A run whose loss diverges (NaN, infinite, or far worse than guessing) stops with TrainingDivergedError before
 * that epoch's checkpoint, so the last one handed out is the last good state.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BestEpoch, EpochRecord, History, LearningRateSchedule, SplitAssignment, Stage, TrainingState, TrainSettings } from '../../shared/training';
import { hashSeed } from '../../shared/seeded-random';
import { nextTask } from '../engine/next-task';
import type { BatchProgress } from '../../shared/trainer-messages';
import { setBaseTrainable } from '../engine/base-model';
import { keepBatchNormInInferenceMode } from '../engine/batch-norm-inference';
import {
  arraysToOptimizer,
  arraysToWeights,
  optimizerToArrays,
  weightsToArrays,
} from './checkpoint';
import { lossAndAccuracy, predictSource, type Predictions } from './evaluate';
import { buildCutModel } from './cut-model';
import { predictInParts, splitIndices, stepInParts, type GradientHelper, type HelperFailure, type StepSettings } from './data-parallel';
import { buildHead } from './head';
import { releaseModels } from '../engine/release';
import { classWeights } from './class-weights';
import { scheduledLearningRate } from './schedule';
import { SampleDropout } from './sample-dropout';
import { checkSettings } from './settings';
import { seededShuffle } from './split';
import { epochSampleIndices, type SampleBatch, type SampleSource } from './sources';

export interface StageData {
  train: SampleSource;
  validation: SampleSource;
}

export interface TrainingData {
  /** Stage 1: pooled bottleneck features, one input per sample. */
  head: StageData;
  /** Stage 2: cut activations, one input per cut tensor in FineTuneSplit.cut order. Needed when fineTuneEpochs > 0. */
  cut?: StageData;
}

/** The loss went NaN, infinite or far above guessing: the steps overshoot. Nothing of this epoch was checkpointed. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';

  constructor(
    readonly stage: Stage,
    /** 0-based epoch that diverged (across both stages). */
    readonly epoch: number,
    readonly learningRate: number,
    what: string,
  ) {
    const stageName = stage === 'head' ? 'stage 1 (the head)' : 'stage 2 (fine-tuning)';
    const kept = epoch > 0 ? `the checkpoint after epoch ${epoch} is kept` : 'nothing of this run was saved';
    super(
      `training diverged in ${stageName} at epoch ${epoch + 1}: ${what}. The learning rate of this stage ` +
        `(${learningRate}) is likely too high: try one 10 times smaller. Training stopped; ${kept}.`,
    );
  }
}

/**
 * An epoch whose mean training loss exceeds this many times the loss of guessing (ln of the class count) has
 * diverged: its predictions are confidently wrong. The loss's clip at 1e-7 keeps such a run finite (about 10 at a
 * learning rate of 1e3 on 5 classes), so a NaN check alone would not notice it; a learning run stays below 1x.
 */
const DIVERGED_LOSS_FACTOR = 3;

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

export interface TrainJob {
  /** The base from loadBaseModel() at the run's input size. Stage 2 updates its layers from fine_tune_at on. */
  base: tfl.LayersModel;
  classes: string[];
  split: SplitAssignment;
  settings: TrainSettings;
  data: TrainingData;
  /**
   * Stage 2's data-parallel helpers (data-parallel.ts), each with a replica of the cut model over the same cut
   * activations: every batch is split between the trainer and them. None: the trainer computes every batch.
   */
  helpers?: readonly GradientHelper[];
}

export interface TrainResult {
  /** The trained head (pooled features -> probabilities). Free it and the base with releaseModels(). */
  head: tfl.LayersModel;
  history: History;
  /** Stage 2's model, cut activations -> probabilities, when fine-tuning ran: a view on the base's and head's weights. */
  cutModel: tfl.LayersModel | null;
}

/** Trains a new head (and fine-tunes when the settings ask for it). */
export function train(job: TrainJob, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  return run(job, callbacks, null);
}

/**
 * Continues the run a checkpoint came from: same settings, split and classes (taken from the checkpoint), the
 * head's and unfrozen layers' weights and the optimizer state restored, starting at the checkpoint's epoch.
 * `base` must be freshly loaded from the same artifacts at the same input size.
 */
export function resumeTraining(
  job: Pick<TrainJob, 'base' | 'data' | 'helpers'>,
  checkpoint: TrainingState,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const { settings, split, classes } = checkpoint;
  return run({ ...job, settings, split, classes }, callbacks, checkpoint);
}

function makeOptimizer(settings: TrainSettings, learningRate: number): tf.Optimizer {
  return settings.optimizer === 'adam' ? tf.train.adam(learningRate) : tf.train.rmsprop(learningRate);
}

async function run(job: TrainJob, callbacks: TrainCallbacks, from: TrainingState | null): Promise<TrainResult> {
  const settings = checkSettings(job.settings);
  const { base, classes, data } = job;
  if (settings.fineTuneEpochs > 0 && data.cut === undefined) {
    throw new Error('fine-tuning needs the cut activations (data.cut); set fineTuneEpochs to 0 to train the head only');
  }
  // An epoch picks samples by their place (view-major, sources.ts): a source of other views would train on wrong ones.
  const samples = job.split.train.length * (settings.augmentViews + 1);
  for (const [stage, stageData] of [['stage 1', data.head], ['stage 2', data.cut]] as const) {
    if (stageData && stageData.train.imageIds.length !== samples) {
      throw new Error(
        `${stage}'s training source has ${stageData.train.imageIds.length} samples, not the ${samples} of ` +
          `${job.split.train.length} images x ${settings.augmentViews + 1} views`,
      );
    }
  }
  if (from !== null && !(Number.isInteger(from.epoch) && from.epoch >= 1)) {
    throw new Error(`a checkpoint's epoch must be >= 1 (it is saved after an epoch), got ${from.epoch}`);
  }
  const featureSize = base.outputs[0].shape[base.outputs[0].shape.length - 1] as number;
  const head = buildHead(featureSize, classes.length, settings);
  // The head's Dropout layers serve both stages (stage 2's model reuses them).
  const dropout = new SampleDropout(head.layers);
  try {
    keepBatchNormInInferenceMode(base);
    setBaseTrainable(base, null);
    const history: History = from ? structuredClone(from.history) : { initial: null, epochs: [], fineTuneStartEpoch: null };
    const snapshotBase = { settings, split: job.split, classes };
    // Both stages train on the same images, so one set of class weights serves both.
    const weights = classWeights(data.head.train.labels, classes.length, settings.classWeighting);
    let cutModel: tfl.LayersModel | null = null;

    if (from?.stage !== 'fine-tune') {
      if (from) arraysToWeights(head.trainableWeights, from.trainableWeights);
      else history.initial = validationMetrics(await predictSource(head, data.head.validation));
      await runStage({
        best: from?.best ?? null,
        model: head,
        stage: 'head',
        learningRate: settings.learningRate,
        schedule: 'constant',
        start: 0,
        first: from?.epoch ?? 0,
        end: settings.headEpochs,
        optimizerWeights: from?.optimizerWeights ?? null,
        data: data.head,
        settings,
        history,
        callbacks,
        snapshotBase,
        classWeights: weights,
        dropout,
        helpers: [],
      });
    }

    if (settings.fineTuneEpochs > 0) {
      cutModel = buildCutModel(base, head, settings.fineTuneAt);
      const resumingStage2 = from?.stage === 'fine-tune';
      if (resumingStage2) arraysToWeights(cutModel.trainableWeights, from.trainableWeights);
      history.fineTuneStartEpoch = settings.headEpochs;
      const headKept = history.kept?.head;
      const startingPoint = async (): Promise<BestEpoch | null> =>
        headKept === undefined
          ? null
          : { epoch: headKept, valLoss: history.epochs.find((e) => e.epoch === headKept)!.valLoss, weights: await weightsToArrays(cutModel!.trainableWeights) };
      await runStage({
        best: resumingStage2 ? (from.best ?? null) : await startingPoint(),
        model: cutModel,
        stage: 'fine-tune',
        learningRate: settings.learningRate / settings.fineTuneLrDivisor,
        schedule: settings.fineTuneSchedule ?? 'constant',
        start: settings.headEpochs,
        first: resumingStage2 ? from.epoch : settings.headEpochs,
        end: settings.headEpochs + settings.fineTuneEpochs,
        optimizerWeights: resumingStage2 ? from.optimizerWeights : null,
        data: data.cut!,
        settings,
        history,
        callbacks,
        snapshotBase,
        classWeights: weights,
        dropout,
        helpers: job.helpers ?? [],
      });
    }
    return { head, history, cutModel };
  } catch (error) {
    releaseModels(head);
    throw error;
  }
}

function validationMetrics(predictions: Predictions): NonNullable<History['initial']> {
  const { loss, accuracy } = lossAndAccuracy(predictions);
  return { valLoss: loss, valAccuracy: accuracy };
}

interface StageRun {
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
  settings: TrainSettings;
  history: History;
  callbacks: TrainCallbacks;
  snapshotBase: Pick<TrainingState, 'settings' | 'split' | 'classes'>;
  /** Loss weight of each class, or null for unweighted. */
  classWeights: Float32Array | null;
  dropout: SampleDropout;
  /** Workers that compute parts of each batch and of each validation pass (data-parallel.ts). */
  helpers: readonly GradientHelper[];
}

async function runStage(stage: StageRun): Promise<void> {
  const best = stage.first < stage.end ? await trainEpochs(stage) : stage.best;
  // The stage ends with its best epoch's weights, also when a resume finds it already ended.
  if (best) arraysToWeights(stage.model.trainableWeights, best.weights);
}

/** The stage's epochs from stage.first on (until patience stops it); returns its best epoch. */
async function trainEpochs(stage: StageRun): Promise<BestEpoch | null> {
  const { model, settings, history, callbacks, data } = stage;
  const variables = model.trainableWeights;
  const patience = settings.patience ?? 0;
  let best = stage.best;
  let helpers = stage.helpers;
  const optimizer = makeOptimizer(settings, stage.learningRate);
  try {
    if (stage.optimizerWeights) await arraysToOptimizer(optimizer, stage.optimizerWeights, variables);
    const classCount = model.outputs[0].shape[1] as number;
    const stepSettings: StepSettings = { seed: settings.seed, classCount, classWeights: stage.classWeights, labelSmoothing: settings.labelSmoothing ?? 0 };
    const guessingLoss = Math.log(Math.max(2, classCount));
    const diverged = (epoch: number, what: string) => new TrainingDivergedError(stage.stage, epoch, stage.learningRate, what);
    if (data.train.imageIds.length === 0) throw new Error('there are no training samples');
    // A helper that failed is dropped for the rest of the stage; its parts are the trainer's from then on.
    const dropFailed = (failures: readonly HelperFailure[]) => {
      for (const { helper, error } of failures) {
        helpers = helpers.filter((h) => h !== helper);
        callbacks.onHelperLost?.(`a fine-tuning helper failed (${error.message}); ${1 + helpers.length} worker(s) go on`);
      }
    };

    for (let epoch = stage.first; epoch < stage.end; epoch++) {
      const started = performance.now();
      const order = seededShuffle(
        epochSampleIndices(data.train.imageIds.length, settings.augmentViews + 1, settings.viewsPerEpoch ?? 'all', epoch),
        hashSeed(`${settings.seed}:shuffle:${epoch}`),
      );
      const count = order.length;
      const batches: number[][] = [];
      for (let i = 0; i < count; i += settings.batchSize) batches.push(order.slice(i, i + settings.batchSize));
      const stageSteps = (stage.end - stage.start) * batches.length;
      const partsOf = (b: number) => splitIndices(batches[b], 1 + helpers.length);

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
          { model, variables, optimizer, dropout: stage.dropout, settings: stepSettings, source: data.train, helpers },
          current,
          batch,
          epoch,
          upcoming,
        );
        dropFailed(result.failures);
        if (!Number.isFinite(result.loss)) throw diverged(epoch, `the loss of batch ${b + 1} is ${result.loss}`);
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

      const validated = await predictInParts(model, variables, data.validation, helpers);
      dropFailed(validated.failures);
      const validation = validationMetrics(validated.predictions);
      const record: EpochRecord = {
        epoch,
        stage: stage.stage,
        loss: lossSum / seen,
        accuracy: correctSum / seen,
        ...validation,
        seconds: (performance.now() - started) / 1000,
      };
      // The training loss, not the validation loss: that one is NaN when there are no validation images.
      if (!(record.loss <= DIVERGED_LOSS_FACTOR * guessingLoss)) {
        throw diverged(epoch, `the mean loss is ${record.loss.toFixed(2)}, far above the ${guessingLoss.toFixed(2)} of guessing`);
      }
      history.epochs.push(record);
      if (best === null || record.valLoss < best.valLoss) {
        best = { epoch, valLoss: record.valLoss, weights: await weightsToArrays(variables) };
      }
      history.kept = { ...history.kept, [stage.stage]: best.epoch };
      const stalled = patience > 0 && epoch - best.epoch >= patience && epoch + 1 < stage.end;
      if (stalled) history.stoppedEarly = { ...history.stoppedEarly, [stage.stage]: epoch };
      callbacks.onEpoch?.(record, structuredClone(history));
      if (callbacks.onCheckpoint) {
        await callbacks.onCheckpoint({
          ...structuredClone(stage.snapshotBase),
          history: structuredClone(history),
          stage: stage.stage,
          // A stage stopped early is over: a resume goes on with the next stage.
          epoch: stalled ? stage.end : epoch + 1,
          trainableWeights: await weightsToArrays(variables),
          optimizerWeights: await optimizerToArrays(optimizer),
          best: structuredClone(best),
        });
      }
      if (stalled) break;
    }
    return best;
  } finally {
    optimizer.dispose();
  }
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
