/**
 * Stopping and resuming, and a run that goes wrong, through the real train loop on real features
 * (MobileNetV2-0.35 at 96 px, 8 flowers per class, wasm). What a user notices: Pause stops after the current
 * batch, also in stage 1 whose batches come from memory; a run paused in each stage and resumed from its
 * checkpoints ends as the uninterrupted run does, also with a cosine-decayed stage 2; a learning rate far too
 * high stops the run with a message that says so, and the last good checkpoint is the last one handed out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainingState, TrainSettings } from '../../shared/training';
import type { BatchProgress } from '../../shared/trainer-messages';
import { releaseModels } from '../../client/engine/release';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { TrainingDivergedError } from '../../client/trainer/divergence';
import { resumeTraining, train, type TrainResult } from '../../client/trainer/train';
import { loadFlowersBase, trainJobOf, wasmFlowersFixture, type FlowersFixture } from '../support/trainer-fixtures';

const SIZE = 96;
const SETTINGS: TrainSettings = { ...DEFAULT_SETTINGS, batchSize: 8, headEpochs: 3, fineTuneEpochs: 2 };
const H = SETTINGS.headEpochs;

let fixture: FlowersFixture;

beforeAll(async () => {
  fixture = await wasmFlowersFixture({ perClass: 8, inputSize: SIZE, views: SETTINGS.augmentViews, fineTuneAt: SETTINGS.fineTuneAt });
});

async function jobFor(settings: TrainSettings) {
  return trainJobOf(fixture, settings, await loadFlowersBase(SIZE));
}

/**
 * Runs (or resumes) until the batch `at` has been reported, then stops the way the trainer worker's stop message
 * does: from another task. Returns the checkpoints handed out and the last batch trained.
 */
async function runAndStop(
  start: (callbacks: Parameters<typeof train>[1]) => Promise<TrainResult>,
  at: Pick<BatchProgress, 'epoch' | 'batch'>,
): Promise<{ checkpoints: TrainingState[]; last: BatchProgress }> {
  const controller = new AbortController();
  const checkpoints: TrainingState[] = [];
  let last: BatchProgress | null = null;
  const run = start({
    signal: controller.signal,
    onCheckpoint: (c) => void checkpoints.push(c),
    onBatch: (progress) => {
      last = progress;
      if (progress.epoch === at.epoch && progress.batch === at.batch) {
        setTimeout(() => controller.abort(new DOMException('stopped', 'AbortError')));
      }
    },
  });
  await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  return { checkpoints, last: last! };
}

describe('pause and resume', () => {
  let uninterrupted: TrainResult;

  beforeAll(async () => {
    const job = await jobFor(SETTINGS);
    uninterrupted = await train(job);
  });

  it('stops after the current batch when the stop comes from another task, in stage 1 and in stage 2', async () => {
    const head = await runAndStop((callbacks) => jobFor(SETTINGS).then((job) => train(job, callbacks)), { epoch: 1, batch: 1 });
    expect(head.last).toMatchObject({ stage: 'head', epoch: 1 });
    expect(head.last.batch).toBeLessThanOrEqual(2);
    expect(head.checkpoints.map((c) => c.epoch)).toEqual([1]);

    const fineTune = await runAndStop((callbacks) => jobFor(SETTINGS).then((job) => train(job, callbacks)), { epoch: H, batch: 2 });
    expect(fineTune.last).toMatchObject({ stage: 'fine-tune', epoch: H });
    expect(fineTune.last.batch).toBeLessThanOrEqual(3);
    expect(fineTune.checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3]);
  });

  it('paused in stage 1 and again in stage 2, resumed from the last checkpoint each time, ends as the uninterrupted run', async () => {
    const first = await runAndStop((callbacks) => jobFor(SETTINGS).then((job) => train(job, callbacks)), { epoch: 1, batch: 2 });
    const second = await runAndStop(async (callbacks) => {
      const { base, data } = await jobFor(SETTINGS);
      return resumeTraining({ base, data }, structuredClone(first.checkpoints.at(-1)!), callbacks);
    }, { epoch: H, batch: 1 });
    expect(second.checkpoints.map((c) => [c.stage, c.epoch])).toEqual([['head', 2], ['head', 3]]);

    const { base, data } = await jobFor(SETTINGS);
    const resumed = await resumeTraining({ base, data }, structuredClone(second.checkpoints.at(-1)!));
    const figures = (r: TrainResult) => r.history.epochs.map(({ seconds, ...figures }) => figures);
    expect(figures(resumed).map((e) => [e.epoch, e.stage])).toEqual(figures(uninterrupted).map((e) => [e.epoch, e.stage]));
    // Same shuffles, dropout masks, weights and optimizer state: the resumed epochs retrace the uninterrupted ones.
    figures(resumed).forEach((e, i) => {
      const expected = figures(uninterrupted)[i];
      expect(e.valAccuracy).toBe(expected.valAccuracy);
      expect(e.accuracy).toBe(expected.accuracy);
      expect(e.loss).toBeCloseTo(expected.loss, 5);
      expect(e.valLoss).toBeCloseTo(expected.valLoss, 5);
    });
    releaseModels(resumed.head, base);
  });
});

describe('a cosine-decayed stage 2', () => {
  const COSINE: TrainSettings = { ...SETTINGS, fineTuneSchedule: 'cosine' };

  it('trains otherwise than the constant rate, leaves stage 1 alone, and a resume ends as the uninterrupted run', async () => {
    const checkpoints: TrainingState[] = [];
    const cosineJob = await jobFor(COSINE);
    const cosine = await train(cosineJob, { onCheckpoint: (c) => void checkpoints.push(c) });
    const constantJob = await jobFor(SETTINGS);
    const constant = await train(constantJob);
    const losses = (r: TrainResult, stage: string) => r.history.epochs.filter((e) => e.stage === stage).map((e) => e.loss);
    expect(losses(cosine, 'head')).toEqual(losses(constant, 'head'));
    // The same first step, then smaller ones: stage 2's training losses part ways.
    expect(losses(cosine, 'fine-tune')).not.toEqual(losses(constant, 'fine-tune'));

    // Resumed after stage 2's first epoch: the schedule goes on from the step it reached, not from the top.
    const { base, data } = await jobFor(COSINE);
    const resumed = await resumeTraining({ base, data }, structuredClone(checkpoints.find((c) => c.stage === 'fine-tune' && c.epoch === H + 1)!));
    const last = (r: TrainResult) => r.history.epochs.at(-1)!;
    expect(last(resumed).accuracy).toBe(last(cosine).accuracy);
    expect(last(resumed).loss).toBeCloseTo(last(cosine).loss, 5);
    expect(last(resumed).valLoss).toBeCloseTo(last(cosine).valLoss, 5);
    releaseModels(cosine.head, constant.head, resumed.head, cosineJob.base, constantJob.base, base);
  });
});

describe('a diverging run', () => {
  it('stops at the first epoch with a learning rate of 1e3, naming the learning rate, and hands out no checkpoint', async () => {
    const checkpoints: TrainingState[] = [];
    const job = await jobFor({ ...SETTINGS, learningRate: 1e3 });
    const error = await train(job, { onCheckpoint: (c) => void checkpoints.push(c) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toMatch(/^training diverged in stage 1 \(the head\) at epoch 1: the mean loss is \d+\.\d\d, far above the 1\.61 of guessing\. /);
    expect((error as Error).message).toContain('The learning rate of this stage (1000) is likely too high: try one 10 times smaller.');
    expect((error as Error).message).toContain('nothing of this run was saved');
    expect(checkpoints).toEqual([]);
    releaseModels(job.base);
  });

  it('does not take a run without validation images (NaN validation loss) for a diverging one', async () => {
    const job = await jobFor({ ...SETTINGS, split: { validation: 0, test: 0 }, fineTuneEpochs: 0 });
    expect(job.split.validation).toEqual([]);
    const result = await train(job);
    expect(result.history.epochs).toHaveLength(H);
    expect(result.history.epochs.every((e) => Number.isNaN(e.valLoss))).toBe(true);
    releaseModels(result.head, job.base);
  });

  it('stops stage 2 when its learning rate is 1e3, keeping stage 1’s last checkpoint as the last one handed out', async () => {
    const checkpoints: TrainingState[] = [];
    // Stage 2 runs at learningRate / fineTuneLrDivisor = 1e-3 / 1e-6 = 1e3.
    const job = await jobFor({ ...SETTINGS, fineTuneLrDivisor: 1e-6 });
    const error = await train(job, { onCheckpoint: (c) => void checkpoints.push(c) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error).toMatchObject({ stage: 'fine-tune', epoch: H });
    expect((error as Error).message).toMatch(/^training diverged in stage 2 \(fine-tuning\) at epoch 4: /);
    expect((error as Error).message).toContain(`the checkpoint after epoch ${H} is kept`);
    expect(checkpoints.map((c) => [c.stage, c.epoch])).toEqual([['head', 1], ['head', 2], ['head', 3]]);
    const last = checkpoints.at(-1)!;
    expect(last.history.epochs.at(-1)!.loss).toBeLessThan(last.history.epochs[0].loss);
    expect(last.trainableWeights.every((w) => w.data.every(Number.isFinite))).toBe(true);
    releaseModels(job.base);
  });
});
