/**
 * Class weights: the figures a visitor's imbalanced dataset gets (scikit-learn's "balanced" formula), and when
 * 'auto' turns them on.
 */
import { describe, expect, it } from 'vitest';
import { classWeights } from '../../client/trainer/class-weights';

const labels = (...counts: number[]) => Int32Array.from(counts.flatMap((n, k) => new Array<number>(n).fill(k)));

describe('classWeights', () => {
  it('weighs each class by samples / (classes * its samples)', () => {
    expect(Array.from(classWeights(labels(10, 30), 2, 'balanced')!)).toEqual([2, 40 / 60].map(Math.fround));
  });

  it("'auto' weighs only when the largest class has more than twice the smallest", () => {
    expect(classWeights(labels(10, 20, 15), 3, 'auto')).toBeNull();
    expect(Array.from(classWeights(labels(10, 21), 2, 'auto')!)).toEqual([31 / 20, 31 / 42].map(Math.fround));
  });

  it("'none' (and a run saved before the setting existed) never weighs", () => {
    expect(classWeights(labels(1, 100), 2, 'none')).toBeNull();
    expect(classWeights(labels(1, 100), 2, undefined)).toBeNull();
  });

  it('leaves classes without training samples out of the ratio', () => {
    expect(Array.from(classWeights(labels(10, 0, 30), 3, 'balanced')!)).toEqual([2, 1, 40 / 60].map(Math.fround));
    expect(classWeights(labels(10, 0, 20), 3, 'auto')).toBeNull();
  });
});
