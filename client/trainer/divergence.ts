/**
 * When a training run has diverged, and the error that stops it: a loss that is NaN, infinite, or far worse than
 * guessing means the steps overshoot. The stage loop (train-stage.ts) checks every batch's loss and every epoch's
 * mean loss, and throws before that epoch's checkpoint, so the last one handed out is the last good state.
 */
import type { Stage } from '../../shared/training';

/** The loss went NaN, infinite or far above guessing: the steps overshoot. Nothing of this epoch was checkpointed. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';

  constructor(
    readonly stage: Stage,
    /** 0-based epoch that diverged (across both stages). */
    readonly epoch: number,
    readonly learningRate: number,
    what: string,
  ) {
    const stageName = stage === 'head' ? 'stage 1 (the head)' : 'stage 2 (fine-tuning)';
    const kept = epoch > 0 ? `the checkpoint after epoch ${epoch} is kept` : 'nothing of this run was saved';
    super(
      `training diverged in ${stageName} at epoch ${epoch + 1}: ${what}. The learning rate of this stage ` +
        `(${learningRate}) is likely too high: try one 10 times smaller. Training stopped; ${kept}.`,
    );
  }
}

/**
 * An epoch whose mean training loss exceeds this many times the loss of guessing (ln of the class count) has
 * diverged: its predictions are confidently wrong. The loss's clip at 1e-7 keeps such a run finite (about 10 at a
 * learning rate of 1e3 on 5 classes), so a NaN check alone would not notice it; a learning run stays below 1x.
 */
const DIVERGED_LOSS_FACTOR = 3;

/** Why an epoch's mean training loss over `classCount` classes shows divergence, or null when it does not. */
export function epochLossDivergence(loss: number, classCount: number): string | null {
  const guessingLoss = Math.log(Math.max(2, classCount));
  if (loss <= DIVERGED_LOSS_FACTOR * guessingLoss) return null;
  return `the mean loss is ${loss.toFixed(2)}, far above the ${guessingLoss.toFixed(2)} of guessing`;
}
