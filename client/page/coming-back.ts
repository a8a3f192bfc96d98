/**
 * "Coming back": what this browser holds, as the panel shows it. Cached features per dataset and base model (the
 * images whose pooled features are cached, the bytes of everything cached for them), the runs that can be
 * resumed, opened or trained again (each needs both its checkpoint and its record), and whether storage is
 * persisted. Reads index keys only: no tensor or weight is loaded.
 */
import type { ModelRecord } from '../../shared/records';
import { listCheckpoints } from '../cache/checkpoint-store';
import { listClassifiers } from '../cache/classifier-store';
import { summary } from '../cache/feature-store';
import { parseModelKey } from '../cache/keys';
import { isOnDeviceId } from './dataset-source';
import type { Runs } from './runs';

export interface CachedFeatures {
  datasetName: string;
  modelName: string;
  /** Images with their pooled features cached. */
  images: number;
  bytes: number;
}

export interface ComingBackRun {
  runId: string;
  datasetName: string;
  modelName: string;
  /** Epochs its checkpoint holds. */
  epoch: number;
  totalEpochs: number;
  bestValAccuracy: number | null;
  /** Every planned epoch has run: nothing is left to resume. */
  finished: boolean;
  /** Its classifier, curves and results are saved and can be opened. */
  hasResults: boolean;
  savedAt: number;
}

export interface ComingBack {
  entries: CachedFeatures[];
  runs: ComingBackRun[];
  persisted: boolean;
}

/** What this browser holds, named after `models` (the server's base models; an unknown one by its id). */
export async function comingBack(runs: Runs, models: readonly ModelRecord[]): Promise<ComingBack> {
  const [features, checkpoints, classifiers, known, persisted] = await Promise.all([
    summary(),
    listCheckpoints(),
    listClassifiers(),
    runs.list(),
    navigator.storage?.persisted?.() ?? Promise.resolve(false),
  ]);
  const model = (id: string) => models.find((m) => m.id === id);
  const modelName = (id: string) => model(id)?.name ?? id;
  const entries = new Map<string, CachedFeatures>();
  for (const f of features) {
    const { modelId, cutLayer } = parseModelKey(f.modelKey);
    const group = `${f.datasetId}|${modelId}`;
    let entry = entries.get(group);
    if (!entry) {
      const datasetName = isOnDeviceId(f.datasetId) ? `your classes (${f.datasetId})` : f.datasetId;
      entries.set(group, (entry = { datasetName, modelName: modelName(modelId), images: 0, bytes: 0 }));
    }
    entry.bytes += f.bytes;
    // Cut activations are cached for the same images: only the pooled features count them.
    if (cutLayer === model(modelId)?.bottleneck) entry.images = Math.max(entry.images, f.images);
  }
  const saved = new Set(classifiers.map((c) => c.runId));
  const byId = new Map(known.map((run) => [run.runId, run]));
  return {
    persisted,
    entries: [...entries.values()],
    runs: checkpoints.flatMap((checkpoint) => {
      const run = byId.get(checkpoint.runId);
      if (!run) return [];
      const totalEpochs = run.settings.headEpochs + run.settings.fineTuneEpochs;
      return [
        {
          runId: checkpoint.runId,
          datasetName: checkpoint.datasetId,
          modelName: modelName(run.modelId),
          epoch: checkpoint.epoch,
          totalEpochs,
          bestValAccuracy: run.bestValAccuracy,
          finished: checkpoint.epoch >= totalEpochs,
          hasResults: saved.has(checkpoint.runId),
          savedAt: checkpoint.savedAt,
        },
      ];
    }),
  };
}
