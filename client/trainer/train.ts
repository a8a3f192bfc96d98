/**
 * A training run: the two stages of the Keras transfer-learning recipe, as the trainer's Web Worker runs them.
 * 1. the head on pooled bottleneck features (the base never runs), after measuring the untrained head on
 *    validation (loss0 / accuracy0);
 * 2. optionally, the base's layers from fine_tune_at on plus the head, fed by the cached cut activations (the
 *    frozen layers never run), at learningRate / fineTuneLrDivisor (constant or cosine-decayed per step, see
 *    schedule.ts), epochs numbered on from stage 1.
 * Each stage is a loop of epochs (train-stage.ts) that ends with the weights of its epoch of lowest validation loss.
 * Both stages may train on label-smoothed targets (loss.ts) and share the head's Dropout layers and the class
 * weights. Every BatchNormalization layer stays in inference mode throughout. Stage 2 counts the head it starts
 * from as a candidate, so fine-tuning that only overfits is undone. A run resumed from a checkpoint goes on in the
 * stage and at the epoch the checkpoint was handed out after.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BestEpoch, History, SplitAssignment, TrainingState, TrainSettings } from '../../shared/training';
import { setBaseTrainable } from '../engine/base-model';
import { keepBatchNormInInferenceMode } from '../engine/batch-norm-inference';
import { releaseModels } from '../engine/release';
import { arraysToWeights, weightsToArrays } from './checkpoint';
import { classWeights } from './class-weights';
import { buildCutModel } from './cut-model';
import type { GradientHelper } from './data-parallel';
import { predictSource, validationMetrics } from './evaluate';
import { buildHead } from './head';
import { SampleDropout } from './sample-dropout';
import { checkSettings } from './settings';
import { runStage, type RunShared, type StageData, type TrainCallbacks } from './train-stage';

export interface TrainingData {
  /** Stage 1: pooled bottleneck features, one input per sample. */
  head: StageData;
  /** Stage 2: cut activations, one input per cut tensor in FineTuneSplit.cut order. Needed when fineTuneEpochs > 0. */
  cut?: StageData;
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

async function run(job: TrainJob, callbacks: TrainCallbacks, from: TrainingState | null): Promise<TrainResult> {
  const settings = checkSettings(job.settings);
  checkJob(job, settings, from);
  const { base, classes, data } = job;
  const featureSize = base.outputs[0].shape[base.outputs[0].shape.length - 1] as number;
  const head = buildHead(featureSize, classes.length, settings);
  // The head's Dropout layers serve both stages (stage 2's model reuses them).
  const dropout = new SampleDropout(head.layers);
  try {
    keepBatchNormInInferenceMode(base);
    setBaseTrainable(base, null);
    const shared: RunShared = {
      settings,
      history: from ? structuredClone(from.history) : { initial: null, epochs: [], fineTuneStartEpoch: null },
      callbacks,
      snapshotBase: { settings, split: job.split, classes },
      // Both stages train on the same images, so one set of class weights serves both.
      classWeights: classWeights(data.head.train.labels, classes.length, settings.classWeighting),
      dropout,
    };
    if (from?.stage !== 'fine-tune') await trainHead(head, data.head, from, shared);
    const cutModel = settings.fineTuneEpochs > 0 ? await fineTune(base, head, data.cut!, from, job.helpers ?? [], shared) : null;
    return { head, history: shared.history, cutModel };
  } catch (error) {
    releaseModels(head);
    throw error;
  }
}

/** Bad input gets a clear error before anything trains. */
function checkJob(job: TrainJob, settings: TrainSettings, from: TrainingState | null): void {
  const { data } = job;
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
}

/** Stage 1: the head on pooled features, from scratch (after measuring it untrained) or from a stage-1 checkpoint. */
async function trainHead(head: tfl.LayersModel, data: StageData, from: TrainingState | null, shared: RunShared): Promise<void> {
  const { settings, history } = shared;
  if (from) arraysToWeights(head.trainableWeights, from.trainableWeights);
  else history.initial = validationMetrics(await predictSource(head, data.validation));
  await runStage({
    ...shared,
    best: from?.best ?? null,
    model: head,
    stage: 'head',
    learningRate: settings.learningRate,
    schedule: 'constant',
    start: 0,
    first: from?.epoch ?? 0,
    end: settings.headEpochs,
    optimizerWeights: from?.optimizerWeights ?? null,
    data,
    helpers: [],
  });
}

/**
 * Stage 2: the base's layers from fine_tune_at on plus the head, on the cut activations, from the head stage 1 kept
 * (itself the best epoch so far) or from a stage-2 checkpoint. Returns the cut model it trained.
 */
async function fineTune(
  base: tfl.LayersModel,
  head: tfl.LayersModel,
  data: StageData,
  from: TrainingState | null,
  helpers: readonly GradientHelper[],
  shared: RunShared,
): Promise<tfl.LayersModel> {
  const { settings, history } = shared;
  const cutModel = buildCutModel(base, head, settings.fineTuneAt);
  const resumingStage2 = from?.stage === 'fine-tune';
  if (resumingStage2) arraysToWeights(cutModel.trainableWeights, from.trainableWeights);
  history.fineTuneStartEpoch = settings.headEpochs;
  const headKept = history.kept?.head;
  const startingPoint = async (): Promise<BestEpoch | null> =>
    headKept === undefined
      ? null
      : { epoch: headKept, valLoss: history.epochs.find((e) => e.epoch === headKept)!.valLoss, weights: await weightsToArrays(cutModel.trainableWeights) };
  await runStage({
    ...shared,
    best: resumingStage2 ? (from.best ?? null) : await startingPoint(),
    model: cutModel,
    stage: 'fine-tune',
    learningRate: settings.learningRate / settings.fineTuneLrDivisor,
    schedule: settings.fineTuneSchedule ?? 'constant',
    start: settings.headEpochs,
    first: resumingStage2 ? from.epoch : settings.headEpochs,
    end: settings.headEpochs + settings.fineTuneEpochs,
    optimizerWeights: resumingStage2 ? from.optimizerWeights : null,
    data,
    helpers,
  });
  return cutModel;
}
