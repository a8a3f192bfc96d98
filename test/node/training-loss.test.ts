/**
 * Stage 2's learning-rate schedule (constant, Keras CosineDecay) and the training loss with label smoothing, on
 * values worked out by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy } from '../../client/trainer/loss';
import { scheduledLearningRate } from '../../client/trainer/schedule';
import { checkSettings, DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { useBackend } from '../../tools/measure/tf-node';

describe('scheduledLearningRate', () => {
  it('cosine decays from the initial rate through half of it at mid-stage to 0 at the last step', () => {
    const at = (step: number) => scheduledLearningRate(1e-4, 'cosine', step, 100);
    expect(at(0)).toBe(1e-4);
    expect(at(25)).toBeCloseTo(1e-4 * (1 + Math.SQRT1_2) / 2, 12);
    expect(at(50)).toBeCloseTo(5e-5, 12);
    expect(at(100)).toBeCloseTo(0, 12);
    // Monotone: every step is at most the one before.
    const rates = Array.from({ length: 101 }, (_, s) => at(s));
    expect(rates.every((r, s) => s === 0 || r <= rates[s - 1])).toBe(true);
  });

  it('constant keeps the initial rate', () => {
    expect([0, 37, 99].map((step) => scheduledLearningRate(3e-5, 'constant', step, 100))).toEqual([3e-5, 3e-5, 3e-5]);
  });
});

describe('crossEntropy', () => {
  beforeAll(() => useBackend('cpu'));
  const probs = () => tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]);

  it('without smoothing is the mean of -ln(p of the true class)', () => {
    const loss = crossEntropy(probs(), [0, 2], 0, null);
    expect(loss.dataSync()[0]).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8)) / 2, 5);
  });

  it('with smoothing 0.1 on 3 classes targets 0.9333 for the true class and 0.0333 for the others', () => {
    const [hi, lo] = [0.9 + 0.1 / 3, 0.1 / 3];
    const first = -(hi * Math.log(0.7) + lo * Math.log(0.2) + lo * Math.log(0.1));
    const second = -(lo * Math.log(0.1) + lo * Math.log(0.1) + hi * Math.log(0.8));
    expect(crossEntropy(probs(), [0, 2], 0.1, null).dataSync()[0]).toBeCloseTo((first + second) / 2, 5);
    // A confident right answer costs more with smoothing: the smoothed target is not one-hot.
    expect(crossEntropy(tf.tensor2d([[0.999, 0.0005, 0.0005]]), [0], 0.1, null).dataSync()[0]).toBeGreaterThan(0.5);
  });

  it('weighs each sample by its class weight', () => {
    const loss = crossEntropy(probs(), [0, 2], 0, tf.tensor1d([2, 0.5]));
    expect(loss.dataSync()[0]).toBeCloseTo(-(2 * Math.log(0.7) + 0.5 * Math.log(0.8)) / 2, 5);
  });
});

describe('checkSettings', () => {
  it('names a schedule or a label smoothing out of range', () => {
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, fineTuneSchedule: 'step' as never, labelSmoothing: 1 })).toThrow(
      /fineTuneSchedule must be one of constant, cosine; labelSmoothing must be in \[0, 1\)/,
    );
  });
});
