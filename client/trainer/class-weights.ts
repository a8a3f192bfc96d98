/**
 * Class weights against imbalance: with 'balanced' weighting each training sample's loss counts
 * samples / (classes * samples of its class), so every class weighs as much in an epoch as it would in a balanced
 * dataset. 'auto' turns that on only where the imbalance is large enough to matter (largest class more than twice the
 * smallest), so balanced datasets train exactly as before.
 */
import type { ClassWeighting } from '../../shared/training';

/** Largest over smallest class (in training samples) above which 'auto' weights the classes. */
export const AUTO_IMBALANCE_RATIO = 2;

/** Training samples of each class. */
export function classCounts(labels: Int32Array, classCount: number): number[] {
  const counts = new Array<number>(classCount).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/**
 * The weight of each class, or null where samples are not weighted. Classes without training samples are left
 * out of the ratio and get weight 1 (no sample ever uses it).
 */
export function classWeights(labels: Int32Array, classCount: number, weighting: ClassWeighting = 'none'): Float32Array | null {
  if (weighting === 'none') return null;
  const counts = classCounts(labels, classCount);
  const present = counts.filter((n) => n > 0);
  if (present.length === 0) return null;
  if (weighting === 'auto' && Math.max(...present) <= AUTO_IMBALANCE_RATIO * Math.min(...present)) return null;
  return Float32Array.from(counts, (n) => (n > 0 ? labels.length / (present.length * n) : 1));
}
