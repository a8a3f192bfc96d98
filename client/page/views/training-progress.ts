/**
 * Step 4: where training is: the stage, epoch i of n, the batch bar, and the last finished epoch's metrics.
 */
import type { EpochRecord, Stage } from '../../../shared/training';
import { h, replace } from './dom';
import { formatCount, formatDuration, formatLoss, formatPercent } from '../text/format';

export interface TrainingProgress {
  stage: Stage;
  /** The epoch being run, 0-based across both stages (as EpochRecord.epoch). */
  epoch: number;
  /** Head epochs + fine-tune epochs. */
  totalEpochs: number;
  /** The run's fine-tune epochs: 0 is a run of one stage. */
  fineTuneEpochs: number;
  /** Batches finished in this epoch. */
  batch: number;
  batches: number;
  /** The last finished epoch, or null before the first. */
  last: EpochRecord | null;
  /** First trainable layer in stage 2, for the stage line. */
  fineTuneAtName?: string;
}

export interface TrainingProgressView {
  /** null hides the panel. */
  update(progress: TrainingProgress | null): void;
}

/** The stage line: which stage of how many the run has (one when it does not fine-tune). */
export function stageLine(progress: Pick<TrainingProgress, 'stage' | 'fineTuneEpochs' | 'fineTuneAtName'>): string {
  if (progress.stage === 'head') return `Stage 1 of ${progress.fineTuneEpochs > 0 ? 2 : 1}: training the new head (the base is frozen)`;
  return `Stage 2 of 2: fine-tuning the top of the base${progress.fineTuneAtName ? ` from ${progress.fineTuneAtName}` : ''}`;
}

export function mountTrainingProgress(el: HTMLElement): TrainingProgressView {
  const stage = h('p', { class: 'progress-headline' });
  const epochBar = h('progress', { class: 'progress', max: 1, value: 0 });
  const epochLabel = h('span');
  const batchBar = h('progress', { class: 'progress thin', max: 1, value: 0 });
  const batchLabel = h('span');
  const metrics = h('div');
  const panel = h(
    'div',
    { class: 'training' },
    h('h3', { class: 'subheading' }, 'Training'),
    stage,
    h('div', { class: 'labelled-bar' }, epochLabel, epochBar),
    h('div', { class: 'labelled-bar' }, batchLabel, batchBar),
    metrics,
  );
  epochBar.setAttribute('aria-label', 'Epochs');
  batchBar.setAttribute('aria-label', 'Batches of this epoch');

  function update(progress: TrainingProgress | null): void {
    if (!progress) {
      replace(el);
      el.hidden = true;
      return;
    }
    if (!el.contains(panel)) replace(el, panel);
    el.hidden = false;
    stage.textContent = stageLine(progress);
    const epochNumber = Math.min(progress.epoch + 1, progress.totalEpochs);
    epochLabel.textContent = `Epoch ${formatCount(epochNumber)} of ${formatCount(progress.totalEpochs)}`;
    epochBar.max = Math.max(1, progress.totalEpochs);
    epochBar.value = Math.min(progress.totalEpochs, progress.epoch + (progress.batches ? progress.batch / progress.batches : 0));
    batchLabel.textContent = `Batch ${formatCount(progress.batch)} of ${formatCount(progress.batches)}`;
    batchBar.max = Math.max(1, progress.batches);
    batchBar.value = Math.min(progress.batch, progress.batches);
    const last = progress.last;
    replace(
      metrics,
      last
        ? h(
            'dl',
            { class: 'stats' },
            h('div', null, h('dt', null, `Accuracy after epoch ${last.epoch + 1}`), h('dd', null, `${formatPercent(last.accuracy)} train · ${formatPercent(last.valAccuracy)} validation`)),
            h('div', null, h('dt', null, 'Loss'), h('dd', null, `${formatLoss(last.loss)} train · ${formatLoss(last.valLoss)} validation`)),
            h('div', null, h('dt', null, 'Epoch time'), h('dd', null, formatDuration(last.seconds))),
          )
        : h('p', { class: 'muted' }, 'Metrics appear after the first epoch.'),
    );
  }
  update(null);
  return { update };
}
