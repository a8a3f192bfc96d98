/**
 * Fine-tuning split across workers (data-parallel.ts) on real features (MobileNetV2-0.35 at 96 px, 16 flowers per
 * class, wasm), with the helpers' replicas in-process: each holds its own base and head, as a helper worker does.
 * What a user notices: a run on 2 or 3 workers is the run one worker makes (same losses, same validation
 * accuracy), a helper that dies mid-epoch costs nothing but its speed, and a resume on several workers ends as
 * the uninterrupted run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainingState, TrainSettings } from '../../shared/training';
import { releaseModels } from '../../client/engine/release';
import { buildReplicaModel } from '../../client/trainer/cut-model';
import { Replica, splitIndices, stepInParts, type GradientHelper } from '../../client/trainer/data-parallel';
import { SampleDropout } from '../../client/trainer/sample-dropout';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { resumeTraining, train, type TrainJob, type TrainResult } from '../../client/trainer/train';
import { loadFlowersBase, sourcesOf, splitOf, trainJobOf, wasmFlowersFixture, type FlowersFixture } from '../support/trainer-fixtures';

const SIZE = 96;
const SETTINGS: TrainSettings = { ...DEFAULT_SETTINGS, batchSize: 16, headEpochs: 2, fineTuneEpochs: 3, split: { validation: 0.3, test: 0 } };
const H = SETTINGS.headEpochs;

let fixture: FlowersFixture;

beforeAll(async () => {
  fixture = await wasmFlowersFixture({ perClass: 16, inputSize: SIZE, views: SETTINGS.augmentViews, fineTuneAt: SETTINGS.fineTuneAt });
});

async function jobWith(helpers: GradientHelper[]): Promise<TrainJob> {
  return { ...trainJobOf(fixture, SETTINGS, await loadFlowersBase(SIZE)), helpers };
}

/** A helper as a worker holds one: its own freshly loaded base, a new head, the same cut activations. */
async function replica(): Promise<Replica> {
  const cut = sourcesOf(fixture, splitOf(fixture, SETTINGS), SETTINGS.augmentViews, 'cut');
  const model = buildReplicaModel(await loadFlowersBase(SIZE), fixture.folder.classes.length, SETTINGS);
  return new Replica(model, { train: cut.train, validation: cut.validation }, {
    seed: SETTINGS.seed,
    classCount: fixture.folder.classes.length,
    classWeights: null,
    labelSmoothing: 0,
  });
}

/** Answers until its `dieOnCall`-th gradients request, which fails as a worker's death does; then every call fails. */
function dying(helper: GradientHelper, dieOnCall: number): GradientHelper & { calls: number } {
  let calls = 0;
  const died = () => Promise.reject(new Error('fine-tuning helper 1 crashed: out of memory'));
  return {
    get calls() {
      return calls;
    },
    gradients: (request) => (++calls >= dieOnCall ? died() : helper.gradients(request)),
    probabilities: (request) => (calls >= dieOnCall ? died() : helper.probabilities(request)),
  };
}

function expectSameRun(actual: TrainResult, expected: TrainResult): void {
  const got = actual.history.epochs;
  const want = expected.history.epochs;
  expect(got.map((e) => [e.epoch, e.stage])).toEqual(want.map((e) => [e.epoch, e.stage]));
  // Stage 1 never splits: identical.
  expect(got.slice(0, H).map((e) => [e.loss, e.valLoss])).toEqual(want.slice(0, H).map((e) => [e.loss, e.valLoss]));
  // The first fine-tuning epoch: the same loss to float rounding (the parts' gradients add up in another order).
  expect(Math.abs(got[H].loss - want[H].loss) / want[H].loss).toBeLessThan(1e-3);
  expect(Math.abs(got[H].valAccuracy - want[H].valAccuracy)).toBeLessThanOrEqual(0.005);
  // Later epochs: Adam turns a rounding difference in a gradient near zero into a step of the learning rate, so the
  // runs drift apart, whatever the kernels: with the composite kernels and seed 1 the 3-worker run's second
  // fine-tuning epoch had a loss 9e-4 above the one-worker run's and one validation image fewer right. A split
  // that computed something else would be far off both bounds.
  const oneImage = 1 / splitOf(fixture, SETTINGS).validation.length + 1e-9;
  for (let e = H + 1; e < want.length; e++) {
    expect(Math.abs(got[e].loss - want[e].loss) / want[e].loss, `epoch ${e}`).toBeLessThan(1e-2);
    expect(Math.abs(got[e].valAccuracy - want[e].valAccuracy), `epoch ${e}`).toBeLessThanOrEqual(oneImage);
  }
  expect(actual.history.kept).toEqual(expected.history.kept);
}

describe('splitIndices', () => {
  it('splits a batch into consecutive parts whose sizes differ by at most one, keeping every sample once', () => {
    expect(splitIndices([5, 6, 7, 8, 9], 2)).toEqual([[5, 6, 7], [8, 9]]);
    expect(splitIndices([5, 6, 7, 8, 9, 10, 11], 3)).toEqual([[5, 6, 7], [8, 9], [10, 11]]);
    expect(splitIndices([4], 3)).toEqual([[4], [], []]);
  });
});

describe('a step split across workers', () => {
  it('hands the helpers their parts before the trainer computes its own, so they compute at the same time', async () => {
    const job = await jobWith([]);
    const model = buildReplicaModel(job.base, fixture.folder.classes.length, SETTINGS);
    const events: string[] = [];
    const apply = model.apply.bind(model);
    model.apply = (...args: Parameters<typeof apply>) => {
      events.push('trainer computes its part');
      return apply(...args);
    };
    const helper = await replica();
    // As a worker's bridge does: the request leaves only after a few promise hops (queue, start check, comlink).
    const remote: GradientHelper = {
      gradients: async (request) => {
        for (let hop = 0; hop < 4; hop++) await Promise.resolve();
        events.push('helper has its request');
        return helper.gradients(request);
      },
      probabilities: (request) => helper.probabilities(request),
    };
    const optimizer = tf.train.adam(1e-4);
    const source = job.data.cut!.train;
    const parts = splitIndices([0, 1, 2, 3], 2);
    await stepInParts(
      {
        model,
        variables: model.trainableWeights,
        optimizer,
        dropout: new SampleDropout(model.layers),
        settings: { seed: SETTINGS.seed, classCount: fixture.folder.classes.length, classWeights: null, labelSmoothing: 0 },
        source,
        helpers: [remote],
      },
      parts,
      await source.batch(parts[0]),
      0,
    );
    expect(events).toEqual(['helper has its request', 'trainer computes its part']);
    optimizer.dispose();
    releaseModels(model);
  });
});

describe('fine-tuning on several workers', () => {
  let one: TrainResult;
  const checkpoints: TrainingState[] = [];

  beforeAll(async () => {
    one = await train(await jobWith([]), { onCheckpoint: (c) => void checkpoints.push(c) });
  });

  it('on 2 and on 3 workers is the run one worker makes', async () => {
    for (const helpers of [[await replica()], [await replica(), await replica()]]) {
      const job = await jobWith(helpers);
      const run = await train(job);
      expectSameRun(run, one);
      releaseModels(run.head, job.base);
    }
  });

  it('goes on when a helper dies mid-epoch: its part is computed by the trainer and the run is the same', async () => {
    const job = await jobWith([]);
    const steps = Math.ceil(job.split.train.length / SETTINGS.batchSize);
    const helper = dying(await replica(), steps + 2);
    const lost: string[] = [];
    const run = await train({ ...job, helpers: [helper] }, { onHelperLost: (message) => void lost.push(message) });
    expect(lost).toEqual([expect.stringMatching(/fine-tuning helper failed \(fine-tuning helper 1 crashed: out of memory\); 1 worker\(s\) go on/)]);
    // Dropped once it failed: never asked again.
    expect(helper.calls).toBe(steps + 2);
    expectSameRun(run, one);
    releaseModels(run.head, job.base);
  });

  it('resumes a fine-tuning checkpoint on 2 workers and ends as the uninterrupted one-worker run', async () => {
    const checkpoint = structuredClone(checkpoints.find((c) => c.stage === 'fine-tune' && c.epoch === H + 1)!);
    const job = await jobWith([await replica()]);
    const resumed = await resumeTraining(job, checkpoint);
    expect(resumed.history.epochs.slice(0, H + 1)).toEqual(one.history.epochs.slice(0, H + 1));
    const last = resumed.history.epochs.at(-1)!;
    expect(Math.abs(last.loss - one.history.epochs.at(-1)!.loss) / last.loss).toBeLessThan(1e-3);
    expect(Math.abs(last.valAccuracy - one.history.epochs.at(-1)!.valAccuracy)).toBeLessThanOrEqual(0.005);
    releaseModels(resumed.head, job.base);
  });
});
