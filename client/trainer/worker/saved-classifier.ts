/**
 * The classifier kept in IndexedDB (cache/classifier-store.ts) as a layers model with its run's history and
 * evaluation: a run's trained classifier is put in use and saved, and one saved by an earlier visit is loaded back.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelRecord } from '../../../shared/records';
import type { Evaluation, History, SplitAssignment } from '../../../shared/training';
import type { SavedClassifier, TrainRequest } from '../../../shared/trainer-messages';
import { loadCheckpoint } from '../../cache/checkpoint-store';
import { loadClassifier, saveClassifier } from '../../cache/classifier-store';
import { StorageFullError } from '../../cache/errors';
import { buildClassifier, exportLayersModel } from '../export';
import { useClassifier } from './classifier-in-use';
import { loadedBase } from './loaded-base';

/** What a finished run hands over: its base and trained head, and what to save with them. */
export interface TrainedRun {
  request: TrainRequest;
  record: ModelRecord;
  base: tfl.LayersModel;
  head: tfl.LayersModel;
  split: SplitAssignment;
  history: History;
  evaluation: Evaluation;
}

/**
 * Puts the run's classifier (base + head) in use and saves it. Returns null, or why it could not be kept for a
 * later visit (browser storage full): it still classifies and exports in this tab.
 */
export async function keepTrainedClassifier({ request, record, base, head, split, history, evaluation }: TrainedRun): Promise<string | null> {
  const model = buildClassifier(base, head);
  const exported = await exportLayersModel(
    model,
    { classes: request.classes, inputSize: request.inputSize, preprocessing: record.preprocessing },
    'float32',
  );
  useClassifier({ model, classes: request.classes, inputSize: request.inputSize, runId: request.runId, split });
  try {
    await saveClassifier({
      runId: request.runId,
      name: `${request.datasetId} · ${record.name}`,
      classes: request.classes,
      savedAt: Date.now(),
      history,
      evaluation,
      artifacts: {
        modelTopology: exported.artifacts.modelTopology,
        weightSpecs: exported.artifacts.weightSpecs ?? [],
        weightData: exported.weightsBin,
        format: 'layers-model',
        generatedBy: exported.artifacts.generatedBy,
      },
    });
    return null;
  } catch (error) {
    // The trained classifier stays usable in this tab; only keeping it for a later visit failed.
    if (!(error instanceof StorageFullError)) throw error;
    return `${error.message}. It classifies and exports in this tab: export it to keep it.`;
  }
}

/**
 * Loads a classifier saved by an earlier visit, for classify and export without retraining, with the run's
 * history and evaluation when they were saved with it.
 */
export async function useSavedClassifier(runId: string): Promise<SavedClassifier | null> {
  await loadedBase();
  const saved = await loadClassifier(runId);
  if (!saved) return null;
  const { artifacts } = saved;
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: artifacts.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: artifacts.weightData,
    }),
  );
  const inputSize = model.inputs[0].shape[1] as number;
  useClassifier({ model, classes: saved.classes, inputSize, runId, split: (await loadCheckpoint(runId))?.split ?? null });
  return { classes: saved.classes, inputSize, history: saved.history ?? null, evaluation: saved.evaluation ?? null };
}
