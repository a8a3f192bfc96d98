/**
 * Stage 2's learning rate per optimizer step: constant, or Keras's CosineDecay (alpha 0) over the stage's steps,
 * from the stage's rate down to 0 at its last step. A pure function of the step, so a resumed run takes the steps
 * an uninterrupted one would.
 */
import type { LearningRateSchedule } from '../../shared/training';

/** The rate of 0-based step `step` of a stage of `steps` steps. */
export function scheduledLearningRate(initial: number, schedule: LearningRateSchedule, step: number, steps: number): number {
  if (schedule === 'constant') return initial;
  const progress = Math.min(step, steps) / steps;
  return initial * 0.5 * (1 + Math.cos(Math.PI * progress));
}
