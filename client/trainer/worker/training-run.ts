/**
 * A training run in the trainer's worker: reads its samples from the feature cache, starts stage 2's helper
 * workers when it fine-tunes on more than one, trains (or resumes from the run's checkpoint), saves a checkpoint
 * after every epoch, evaluates on the held-out split and hands the classifier over to be used and saved. Owns the
 * run's stop controller and helper pool.
 */
import type { EpochRecord, Evaluation, History, SplitAssignment, TrainingState, TrainSettings } from '../../../shared/training';
import type { BatchProgress, TrainEvent, TrainOutcome, TrainRequest } from '../../../shared/trainer-messages';
import { loadCheckpoint, saveCheckpoint } from '../../cache/checkpoint-store';
import { loadBaseModel } from '../../engine/base-model';
import { releaseModels } from '../../engine/release';
import { evaluate } from '../evaluate';
import { splitSamples } from '../sources';
import { resumeTraining, train, type TrainingData, type TrainResult } from '../train';
import { loadInMemory, streamFromCache } from './cached-source';
import { HelperPool } from './helper-pool';
import { loadedBase, type LoadedBase } from './loaded-base';
import { keepTrainedClassifier } from './saved-classifier';

/** The latest run's stop controller: stopTraining() aborts it. */
let stopper: AbortController | null = null;
/** Stage 2's helper workers while a run that fine-tunes is on. */
let helperPool: HelperPool | null = null;

type Samples = ReturnType<typeof splitSamples>;

/** The run's samples from the cache: pooled features in memory, and cut activations streamed when it fine-tunes. */
async function trainingData(request: TrainRequest, samples: Samples, settings: TrainSettings): Promise<TrainingData> {
  const labelOf = (id: string) => request.labels[id];
  const { augmentation } = request;
  const data: TrainingData = {
    head: {
      train: await loadInMemory(request.pooledKey, samples.train, labelOf, augmentation),
      validation: await loadInMemory(request.pooledKey, samples.validation, labelOf, augmentation),
    },
  };
  if (settings.fineTuneEpochs > 0) {
    if (!request.cutKey) throw new Error('fine-tuning needs the cut activations: extract them first');
    data.cut = {
      train: streamFromCache(request.cutKey, samples.train, labelOf, augmentation),
      validation: streamFromCache(request.cutKey, samples.validation, labelOf, augmentation),
    };
  }
  return data;
}

/** Stage 2's helpers (workers - 1 of them, the trainer being one), started now so they are ready when it begins. */
function startHelpers(request: TrainRequest, base: LoadedBase, settings: TrainSettings, split: SplitAssignment, onEvent: (event: TrainEvent) => void): HelperPool {
  return new HelperPool(
    request.fineTune.workers - 1,
    {
      // The backend the trainer ended up on (after any fallback), so every part computes alike.
      backend: base.report.backend,
      threads: request.fineTune.threads,
      artifacts: base.artifactsData,
      record: base.record,
      inputSize: request.inputSize,
      settings,
      classes: request.classes,
      split,
      labels: request.labels,
      cutKey: request.cutKey!,
      augmentation: request.augmentation,
    },
    (message) => onEvent({ kind: 'notice', message }),
  );
}

/** The trained classifier's accuracy on the test split (the validation split when there is none). */
async function evaluateRun(request: TrainRequest, samples: Samples, split: SplitAssignment, result: TrainResult): Promise<Evaluation> {
  const evalSplit = split.test.length > 0 ? 'test' : 'validation';
  const evalRefs = samples[evalSplit];
  const labelOf = (id: string) => request.labels[id];
  if (result.cutModel) return evaluate(result.cutModel, streamFromCache(request.cutKey!, evalRefs, labelOf, request.augmentation), request.classes, evalSplit);
  return evaluate(result.head, await loadInMemory(request.pooledKey, evalRefs, labelOf, request.augmentation), request.classes, evalSplit);
}

/** Trains (or resumes) the run `request` asks for, telling `onEvent` its batches, epochs, checkpoints and notices. */
export async function runTraining(request: TrainRequest, onEvent: (event: TrainEvent) => void): Promise<TrainOutcome> {
  // Before any await: a stop() posted right after this call must find this run's controller.
  const stop = (stopper = new AbortController());
  const loaded = await loadedBase();
  const base = await loadBaseModel(loaded.artifacts, { bottleneck: loaded.record.bottleneck, inputSize: request.inputSize });
  const checkpoint = request.resume ? await loadCheckpoint(request.runId) : undefined;
  const settings = checkpoint?.settings ?? request.settings;
  const split = checkpoint?.split ?? request.split;
  const samples = splitSamples(split, settings.augmentViews);
  const data = await trainingData(request, samples, settings);
  const fineTunes = checkpoint?.stage === 'fine-tune' ? checkpoint.epoch < settings.headEpochs + settings.fineTuneEpochs : settings.fineTuneEpochs > 0;
  helperPool?.close();
  helperPool = fineTunes && request.fineTune.workers > 1 ? startHelpers(request, loaded, settings, split, onEvent) : null;
  const callbacks = {
    signal: stop.signal,
    onHelperLost: (message: string) => onEvent({ kind: 'notice', message }),
    onBatch: (progress: BatchProgress) => onEvent({ kind: 'batch', progress }),
    onEpoch: (record: EpochRecord, history: History) => onEvent({ kind: 'epoch', record, history }),
    onCheckpoint: async (state: TrainingState) => {
      await saveCheckpoint({ ...state, runId: request.runId, datasetId: request.datasetId, modelKey: request.pooledKey, savedAt: Date.now() });
      onEvent({ kind: 'checkpoint', epoch: state.epoch });
    },
  };
  const job = { base, classes: request.classes, split, settings, data, helpers: helperPool?.helpers };
  let result: TrainResult;
  try {
    result = checkpoint ? await resumeTraining(job, checkpoint, callbacks) : await train(job, callbacks);
  } catch (error) {
    releaseModels(base);
    // Paused (or cancelled): not an error; the last checkpoint is where a resume starts.
    if (stop.signal.aborted) return { finished: false };
    throw error;
  } finally {
    helperPool?.close();
    helperPool = null;
  }
  const evaluation = await evaluateRun(request, samples, split, result);
  const unsaved = await keepTrainedClassifier({ request, record: loaded.record, base, head: result.head, split, history: result.history, evaluation });
  return { finished: true, history: result.history, evaluation, unsaved };
}

/** Stops training after the current batch: the run then resolves { finished: false }; the last checkpoint is kept. */
export function stopTraining(): void {
  stopper?.abort(new DOMException('stopped', 'AbortError'));
}

/** Ends fine-tuning helper `index`'s worker as a crash would (tests: the run goes on with a fresh one). */
export function terminateFineTuneHelper(index: number): void {
  if (!helperPool) throw new Error('no fine-tuning helpers are running');
  helperPool.terminate(index);
}
