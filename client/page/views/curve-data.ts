/**
 * History -> the series the learning-curve charts plot. x is "epochs trained": the untrained head sits at 0
 * and epoch record e at e + 1, so fine-tuning, which starts at record fineTuneStartEpoch, begins at
 * x = fineTuneStartEpoch (the seeds draw their line at INITIAL_EPOCHS - 1 on a 0-based axis: the same point).
 * Pure, no DOM.
 */
import type { History } from '../../../shared/training';

export interface CurveData {
  x: number[];
  accuracy: (number | null)[];
  valAccuracy: (number | null)[];
  loss: (number | null)[];
  valLoss: (number | null)[];
  /** x of the fine-tune start line, or null. */
  fineTuneX: number | null;
  /** x of the epoch whose weights the classifier keeps (the last stage's best), or null. */
  keptX: number | null;
}

export function curveData(history: History): CurveData {
  const epochs = [...history.epochs].sort((a, b) => a.epoch - b.epoch);
  const kept = history.kept?.['fine-tune'] ?? history.kept?.head;
  const data: CurveData = {
    x: [],
    accuracy: [],
    valAccuracy: [],
    loss: [],
    valLoss: [],
    fineTuneX: history.fineTuneStartEpoch,
    keptX: kept === undefined ? null : kept + 1,
  };
  if (history.initial) {
    data.x.push(0);
    data.accuracy.push(null);
    data.valAccuracy.push(finite(history.initial.valAccuracy));
    data.loss.push(null);
    data.valLoss.push(finite(history.initial.valLoss));
  }
  for (const e of epochs) {
    data.x.push(e.epoch + 1);
    data.accuracy.push(finite(e.accuracy));
    data.valAccuracy.push(finite(e.valAccuracy));
    data.loss.push(finite(e.loss));
    data.valLoss.push(finite(e.valLoss));
  }
  return data;
}

/** A diverged run's NaN or Infinity would wreck the chart's scale: plot a gap instead. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
