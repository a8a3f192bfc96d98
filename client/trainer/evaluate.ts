/**
 * Running a classifier over a SampleSource: class probabilities in batches, the loss and accuracy the trainer
 * reports per epoch (Keras's sparse categorical crossentropy on softmax outputs, clipped at 1e-7), and the full
 * Evaluation the page shows (per-class accuracy, confusion matrix, every prediction with its confidence).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Evaluation, History } from '../../shared/training';
import type { SampleBatch, SampleSource } from './sources';

export const EVALUATION_BATCH_SIZE = 64;
const EPSILON = 1e-7;

export interface Predictions {
  /** Row-major [samples, classes]. */
  probabilities: Float32Array;
  labels: Int32Array;
  classCount: number;
}

/** A batch as input tensors of the model's per-sample shapes, with a clear error when they do not fit. */
export function batchTensors(model: tfl.LayersModel, batch: SampleBatch): tf.Tensor[] {
  const n = batch.labels.length;
  if (batch.inputs.length !== model.inputs.length) {
    throw new Error(`a batch has ${batch.inputs.length} inputs, the model takes ${model.inputs.length}`);
  }
  return model.inputs.map((input, i) => {
    const shape = [n, ...(input.shape.slice(1) as number[])];
    if (batch.inputs[i].length !== tf.util.sizeFromShape(shape)) {
      throw new Error(`input ${i} of a batch has ${batch.inputs[i].length} values, the model needs ${JSON.stringify(shape)}`);
    }
    return tf.tensor(batch.inputs[i], shape, 'float32');
  });
}

export async function predictSource(
  model: tfl.LayersModel,
  source: SampleSource,
  batchSize = EVALUATION_BATCH_SIZE,
): Promise<Predictions> {
  const count = source.imageIds.length;
  const classCount = model.outputs[0].shape[1] as number;
  const probabilities = new Float32Array(count * classCount);
  const labels = new Int32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const batch = await source.batch(indices);
    const probs = tf.tidy(() => {
      const xs = batchTensors(model, batch);
      return model.apply(xs.length === 1 ? xs[0] : xs, { training: false }) as tf.Tensor;
    });
    probabilities.set(await probs.data(), start * classCount);
    probs.dispose();
    labels.set(batch.labels, start);
  }
  return { probabilities, labels, classCount };
}

/** Mean crossentropy and accuracy; NaN for both when there are no samples. */
export function lossAndAccuracy({ probabilities, labels, classCount }: Predictions): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = probabilities.subarray(i * classCount, (i + 1) * classCount);
    loss -= Math.log(Math.min(Math.max(row[labels[i]], EPSILON), 1 - EPSILON));
    if (argMax(row) === labels[i]) correct++;
  }
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}

/** lossAndAccuracy as the validation figures of an epoch record. */
export function validationMetrics(predictions: Predictions): NonNullable<History['initial']> {
  const { loss, accuracy } = lossAndAccuracy(predictions);
  return { valLoss: loss, valAccuracy: accuracy };
}

function argMax(row: Float32Array): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
  return best;
}

/** Evaluates `model` (pooled features, cut activations or images: whatever `source` feeds it) on one split. */
export async function evaluate(
  model: tfl.LayersModel,
  source: SampleSource,
  classes: string[],
  split: Evaluation['split'],
): Promise<Evaluation> {
  const predictions = await predictSource(model, source);
  if (predictions.classCount !== classes.length) {
    throw new Error(`the model predicts ${predictions.classCount} classes, ${classes.length} were given`);
  }
  const { probabilities, labels, classCount } = predictions;
  const confusion = classes.map(() => new Array<number>(classCount).fill(0));
  const rows = Array.from(labels, (trueClass, i) => {
    const row = probabilities.subarray(i * classCount, (i + 1) * classCount);
    const predictedClass = argMax(row);
    confusion[trueClass][predictedClass]++;
    return { imageId: source.imageIds[i], trueClass, predictedClass, confidence: row[predictedClass] };
  });
  const { loss, accuracy } = lossAndAccuracy(predictions);
  const perClassAccuracy = confusion.map((row, k) => row[k] / row.reduce((a, b) => a + b, 0));
  return { split, accuracy, loss, classes: [...classes], perClassAccuracy, confusion, predictions: rows };
}
