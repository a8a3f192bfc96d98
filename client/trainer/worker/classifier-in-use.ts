/**
 * The classifier in use, the one owner of it: the one a run just trained or one loaded from a saved copy, which
 * classify, Live and the exports read. Also its folded form for Live, made on Live's first frame and dropped with it.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SplitAssignment } from '../../../shared/training';
import { FoldError, type FoldedGraph } from '../../engine/fold';
import { foldModel } from '../../engine/fold-model';
import { releaseModels } from '../../engine/release';

export interface ClassifierInUse {
  model: tfl.LayersModel;
  classes: string[];
  inputSize: number;
  runId: string;
  /** The run's split, when known (a saved classifier whose checkpoint is gone has none). */
  split: SplitAssignment | null;
}

let classifier: ClassifierInUse | null = null;
/**
 * The classifier folded into a plain op list (fold.ts, as the TFLite export folds it): per frame it runs about 2.5x
 * faster than the layers model, with the same probabilities within 1e-4 (test/node/run-folded.test.ts). Null: the
 * classifier has a layer the fold cannot express, and Live runs the layers model. Undefined: not folded yet.
 */
let liveGraph: FoldedGraph | null | undefined;

/**
 * The classifier in use; throws when there is none. A request calls it before it awaits the base (no classifier is
 * the error it reports first) and again where it uses the classifier, which a finished run may have replaced.
 */
export function classifierInUse(): ClassifierInUse {
  if (!classifier) throw new Error('train a classifier first');
  return classifier;
}

/** Puts `next` in use (null: none), releasing the one it replaces. */
export function useClassifier(next: ClassifierInUse | null): void {
  // The classifier shares its layers with the run's base and head: releaseModels frees them all once.
  if (classifier && classifier.model !== next?.model) {
    releaseModels(classifier.model);
    liveGraph = undefined;
  }
  classifier = next;
}

/** The classifier in use folded for Live (folded on the first call), or null when it cannot be folded. */
export function foldedForLive(): FoldedGraph | null {
  if (liveGraph === undefined) {
    try {
      liveGraph = foldModel(classifierInUse().model);
    } catch (error) {
      if (!(error instanceof FoldError)) throw error;
      liveGraph = null;
    }
  }
  return liveGraph;
}
