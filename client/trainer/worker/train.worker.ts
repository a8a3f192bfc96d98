/**
 * The trainer's Web Worker: its comlink surface, which the page imports as a type only (TrainWorkerApi). The page
 * trades plain data with it; each job is a module of this folder:
 * - loaded-base.ts: the backend and the base model's artifacts (init), which every request awaits;
 * - classifier-in-use.ts: the classifier a run trained or a saved one, the only live copy;
 * - training-run.ts: training (stage 1 and 2), resume, stop, the fine-tuning helpers;
 * - saved-classifier.ts: the classifier saved in IndexedDB after a run, and loaded back on a later visit;
 * - classify.ts: classify an image, a Live frame;
 * - classifier-export.ts: the TF.js model and the .tflite file (and stopping it);
 * - augmentation-preview.ts, base-summary.ts: what the page shows before a run.
 */
import * as Comlink from 'comlink';
import { previewAugmentation } from './augmentation-preview';
import { describeRun, layerNames } from './base-summary';
import { useClassifier } from './classifier-in-use';
import { exportClassifier, prepareTflite, stopTfliteExport, tfliteImageIds } from './classifier-export';
import { classify, classifyFrame } from './classify';
import { initBackend } from './loaded-base';
import { useSavedClassifier } from './saved-classifier';
import { runTraining, stopTraining, terminateFineTuneHelper } from './training-run';

const api = {
  init: initBackend,
  layerNames,
  describe: describeRun,
  train: runTraining,
  terminateFineTuneHelper,
  stop: stopTraining,
  useSavedClassifier,
  /** Drops the classifier in use (its saved copy is the cache's business). */
  forgetClassifier(): void {
    useClassifier(null);
  },
  classify,
  classifyFrame,
  exportModel: exportClassifier,
  tfliteImageIds,
  exportTflite: prepareTflite,
  stopTflite: stopTfliteExport,
  previewAugmentation,
};

export type TrainWorkerApi = typeof api;
Comlink.expose(api);
