/**
 * Data-parallel training steps. A batch is split into parts: the trainer computes the first, and each helper (a
 * worker holding a replica of the model over the same cached samples) one of the others, all from the same
 * weights. The parts' gradients add up to the whole batch's (each part's loss is its share of the batch mean, and
 * dropout masks are drawn per sample, see sample-dropout.ts), and only the trainer's optimizer applies the sum:
 * its weights are the one copy that counts, and every request hands the helpers their current values, so no
 * replica can drift. Validation predictions are split the same way.
 * A helper that fails is replaced by the trainer itself: its part is computed here and the step goes on.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { nextTask } from '../engine/next-task';
import type { NamedArray } from '../../shared/training';
import { arraysToWeights, weightsToArrays } from './checkpoint';
import { batchTensors, predictSource, type Predictions } from './evaluate';
import { crossEntropy } from './loss';
import { sampleDropoutKey, SampleDropout } from './sample-dropout';
import type { SampleBatch, SampleSource } from './sources';

/** What a step needs besides the batch: the same on the trainer and on every helper. */
export interface StepSettings {
  /** The run's seed (dropout masks derive from it). */
  seed: number;
  classCount: number;
  /** Loss weight of each class, or null for unweighted. */
  classWeights: Float32Array | null;
  labelSmoothing: number;
}

export interface GradientRequest {
  /** The trainable weights' current values, by name (checkpoint.ts's form). */
  weights: NamedArray[];
  /** Which samples of the training source, in batch order. */
  indices: number[];
  epoch: number;
  /** The whole batch's size: the part's loss is its share of the batch's mean. */
  batchSize: number;
  /** The helper's part of the next batch, to read from the cache while this one computes. */
  next?: number[];
}

export interface PartGradients {
  /** One per trainable weight, in trainableWeights order. */
  gradients: Float32Array[];
  /** The part's share of the batch's mean loss. */
  loss: number;
  /** Correct predictions among the part's samples. */
  correct: number;
}

export interface ValidationRequest {
  weights: NamedArray[];
  /** Which samples of the validation source. */
  indices: number[];
}

/** A replica of the model, usually in another worker: the part of a step or of a validation pass it is asked for. */
export interface GradientHelper {
  gradients(request: GradientRequest): Promise<PartGradients>;
  /** Row-major [indices, classes] probabilities of validation samples at these weights. */
  probabilities(request: ValidationRequest): Promise<Float32Array>;
}

/** `indices` in `parts` consecutive parts whose sizes differ by at most one (some empty when there are fewer). */
export function splitIndices(indices: readonly number[], parts: number): number[][] {
  const base = Math.floor(indices.length / parts);
  const extra = indices.length % parts;
  const out: number[][] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = base + (p < extra ? 1 : 0);
    out.push(indices.slice(start, start + size));
    start += size;
  }
  return out;
}

/** A source over some samples of another, in the given order. */
export function subSource(source: SampleSource, indices: readonly number[]): SampleSource {
  return {
    imageIds: indices.map((i) => source.imageIds[i]),
    labels: Int32Array.from(indices, (i) => source.labels[i]),
    batch: (rows) => source.batch(rows.map((row) => indices[row])),
  };
}

/** The gradients of one part of a batch (tensors the caller frees), its loss share and its correct count. */
export function partGradients(
  model: tfl.LayersModel,
  variables: readonly tfl.LayerVariable[],
  dropout: SampleDropout,
  batch: SampleBatch,
  part: Omit<GradientRequest, 'weights'>,
  settings: StepSettings,
): { gradients: tf.Tensor[]; loss: tf.Scalar; correct: tf.Scalar } {
  const { classCount, classWeights, labelSmoothing } = settings;
  if (batch.labels.some((label) => !(label >= 0 && label < classCount))) {
    throw new Error(`a batch holds a label outside 0..${classCount - 1}`);
  }
  dropout.forSamples(part.indices.map((i) => sampleDropoutKey(settings.seed, part.epoch, i)));
  return tf.tidy(() => {
    const xs = batchTensors(model, batch);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const sampleWeights = classWeights ? tf.tensor1d(Array.from(batch.labels, (label) => classWeights[label])) : null;
    let correct: tf.Scalar | undefined;
    const tfVariables = variables.map((v) => v.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const probs = model.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor2D;
      // The gradient scope frees everything but the loss; keep the accuracy count out of it.
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32')) as tf.Scalar);
      return crossEntropy(probs, batch.labels, labelSmoothing, sampleWeights, part.batchSize);
    }, tfVariables);
    return { gradients: tfVariables.map((v) => grads[v.name]), loss: value, correct: correct! };
  });
}

/** A helper that failed, and why: the trainer computed its part itself. */
export interface HelperFailure {
  helper: GradientHelper;
  error: Error;
}

export interface ParallelStep {
  model: tfl.LayersModel;
  variables: readonly tfl.LayerVariable[];
  optimizer: tf.Optimizer;
  dropout: SampleDropout;
  settings: StepSettings;
  /** The trainer's source of training samples (for its own part, and for a failed helper's). */
  source: SampleSource;
  helpers: readonly GradientHelper[];
}

/**
 * One optimizer step on the batch `parts` make up: parts[0] is the trainer's (`firstBatch` holds its samples),
 * parts[1 + h] helper h's (the trainer's too when there is no such helper any more). `nextParts`: the next
 * batch's, split the same way. Returns the batch's mean loss, its correct count and the helpers that failed.
 */
export async function stepInParts(
  step: ParallelStep,
  parts: readonly number[][],
  firstBatch: SampleBatch,
  epoch: number,
  nextParts: readonly number[][] = [],
): Promise<{ loss: number; correct: number; failures: HelperFailure[] }> {
  const { model, variables, dropout, settings, source, helpers } = step;
  const batchSize = parts.reduce((n, part) => n + part.length, 0);
  const weights = helpers.length > 0 ? await weightsToArrays(variables) : [];
  const asked = parts.slice(1).map((indices, h) =>
    indices.length === 0 || !helpers[h] ? null : helpers[h].gradients({ weights, indices, epoch, batchSize, next: nextParts[1 + h] }),
  );
  // Settled below; a rejection must not surface as unhandled meanwhile.
  for (const answer of asked) answer?.catch(() => undefined);
  // The requests leave through promise chains (bridge queue, comlink): let them reach the helpers before this
  // worker's thread is busy with its own part, or the helpers would start only once it is done.
  if (asked.some((answer) => answer !== null)) await nextTask();

  const local = (batch: SampleBatch, indices: number[]) => partGradients(model, variables, dropout, batch, { indices, epoch, batchSize }, settings);
  const partsComputed = [local(firstBatch, parts[0])];
  const failures: HelperFailure[] = [];
  const remote: PartGradients[] = [];
  for (const [h, answer] of asked.entries()) {
    const indices = parts[1 + h];
    if (indices.length === 0) continue;
    try {
      if (answer) {
        remote.push(await answer);
        continue;
      }
    } catch (error) {
      failures.push({ helper: helpers[h], error: error as Error });
    }
    partsComputed.push(local(await source.batch(indices), indices));
  }

  const [loss, correct] = tf.tidy(() => {
    // The trainer's parts first, then the helpers' (the order only moves float rounding).
    const summed = partsComputed[0].gradients.map((gradient, k) => {
      let sum = partsComputed.slice(1).reduce((acc, p) => tf.add(acc, p.gradients[k]), gradient);
      for (const answer of remote) sum = tf.add(sum, tf.tensor(answer.gradients[k], gradient.shape));
      return sum;
    });
    step.optimizer.applyGradients(variables.map((v, k) => ({ name: (v.read() as tf.Variable).name, tensor: summed[k] })));
    return [
      partsComputed.reduce((acc, p) => tf.add(acc, p.loss), tf.scalar(0)),
      partsComputed.reduce((acc, p) => tf.add(acc, p.correct), tf.scalar(0)),
    ];
  });
  const [localLoss, localCorrect] = await Promise.all([loss.data(), correct.data()]);
  tf.dispose([loss, correct, ...partsComputed.flatMap((p) => [...p.gradients, p.loss, p.correct])]);
  return {
    loss: localLoss[0] + remote.reduce((sum, answer) => sum + answer.loss, 0),
    correct: localCorrect[0] + remote.reduce((sum, answer) => sum + answer.correct, 0),
    failures,
  };
}

/** Validation predictions with the samples split between the trainer and its helpers (a failed helper's part computed here). */
export async function predictInParts(
  model: tfl.LayersModel,
  variables: readonly tfl.LayerVariable[],
  source: SampleSource,
  helpers: readonly GradientHelper[],
): Promise<{ predictions: Predictions; failures: HelperFailure[] }> {
  if (helpers.length === 0) return { predictions: await predictSource(model, source), failures: [] };
  const count = source.imageIds.length;
  const parts = splitIndices(Array.from({ length: count }, (_, i) => i), 1 + helpers.length);
  const weights = await weightsToArrays(variables);
  const asked = helpers.map((helper, h) => (parts[1 + h].length === 0 ? null : helper.probabilities({ weights, indices: parts[1 + h] })));
  for (const answer of asked) answer?.catch(() => undefined);
  await nextTask();
  const first = await predictSource(model, subSource(source, parts[0]));
  const { classCount } = first;
  const probabilities = new Float32Array(count * classCount);
  probabilities.set(first.probabilities);
  const failures: HelperFailure[] = [];
  let offset = parts[0].length;
  for (let h = 0; h < helpers.length; h++) {
    const part = parts[1 + h];
    try {
      if (asked[h]) probabilities.set(await asked[h]!, offset * classCount);
    } catch (error) {
      failures.push({ helper: helpers[h], error: error as Error });
      probabilities.set((await predictSource(model, subSource(source, part))).probabilities, offset * classCount);
    }
    offset += part.length;
  }
  return { predictions: { probabilities, labels: Int32Array.from(source.labels), classCount }, failures };
}

/**
 * A replica of the model answering a helper's requests over its own sources of the same samples: what the helper
 * worker runs, and what the tests run in-process.
 */
export class Replica implements GradientHelper {
  readonly #variables: tfl.LayerVariable[];
  readonly #dropout: SampleDropout;
  /** The samples of the next request, being read meanwhile. */
  #ahead: { indices: string; batch: Promise<SampleBatch> } | null = null;

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly data: { train: SampleSource; validation: SampleSource },
    private readonly settings: StepSettings,
  ) {
    this.#variables = model.trainableWeights;
    this.#dropout = new SampleDropout(model.layers);
  }

  async gradients({ weights, next, ...part }: GradientRequest): Promise<PartGradients> {
    arraysToWeights(this.#variables, weights);
    const batch = await this.#read(part.indices);
    if (next && next.length > 0) {
      const ahead = { indices: next.join(), batch: this.data.train.batch(next) };
      // Not awaited when the next request differs (a helper dropped meanwhile changes the split).
      ahead.batch.catch(() => undefined);
      this.#ahead = ahead;
    }
    const result = partGradients(this.model, this.#variables, this.#dropout, batch, part, this.settings);
    try {
      const gradients = (await Promise.all(result.gradients.map((g) => g.data()))) as Float32Array[];
      const [loss, correct] = await Promise.all([result.loss.data(), result.correct.data()]);
      return { gradients, loss: loss[0], correct: correct[0] };
    } finally {
      tf.dispose([...result.gradients, result.loss, result.correct]);
    }
  }

  #read(indices: number[]): Promise<SampleBatch> {
    const ahead = this.#ahead;
    this.#ahead = null;
    return ahead?.indices === indices.join() ? ahead.batch : this.data.train.batch(indices);
  }

  async probabilities({ weights, indices }: ValidationRequest): Promise<Float32Array> {
    arraysToWeights(this.#variables, weights);
    return (await predictSource(this.model, subSource(this.data.validation, indices))).probabilities;
  }
}
