/**
 * The bench's training group. In the page: head and fine-tuning epochs from the feature cache, fine-tuning on one
 * worker and on N, and one stage-2 step profiled per kernel in a browser worker. In Node (wasm, one thread): a
 * fine-tuning epoch that recomputes the frozen layers from the images against one from the cut activations.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { PageSettings } from '../../client/page/run-planner';
import { splitImages } from '../../client/trainer/split';
import { PROFILE_STEPS, PROFILE_WARM_UP, timeFineTuneEpochs, type FineTuneTiming } from '../measure/fine-tune-timing';
import { profileInBrowser } from '../measure/fine-tune-profile';
import type { OpenedSession } from '../measure/graft-page/session';
import { trainRun, type TrainRun } from '../measure/graft-page/training';
import { logLine } from '../measure/project';

export interface TrainingRuns {
  /** Fine-tuning on one worker, and on N (settings.workers). */
  trainingOne: TrainRun;
  training: TrainRun;
  profile: Awaited<ReturnType<typeof profileInBrowser>>;
}

/** A training run that ended done, or the error that says how it ended. */
function finished(run: TrainRun): TrainRun {
  if (run.state !== 'done' || !run.history) throw new Error(`training in the page failed: ${run.error ?? `it ended ${run.state}`}`);
  return run;
}

export async function measureTraining(page: Page, session: OpenedSession, settings: PageSettings, modelDir: string): Promise<TrainingRuns> {
  const log = logLine;
  log('training from the cache, fine-tuning on 1 worker');
  const trainingOne = finished(await trainRun(page, { ...settings, workers: 1 }));
  log(`training from the cache, fine-tuning on ${settings.workers} workers`);
  const training = finished(await trainRun(page, settings));
  log('one stage-2 step profiled per kernel, in a browser worker on one thread');
  const profile = await profileInBrowser(page, {
    modelDir,
    bottleneck: session.record.bottleneck,
    inputSize: session.record.inputSize,
    backend: settings.backend,
    options: { classCount: session.classes.length, settings, batch: settings.batchSize, warmUp: PROFILE_WARM_UP, steps: PROFILE_STEPS },
  });
  return { trainingOne, training, profile };
}

/** The Node comparison on the class folders of `subset`, split as the page splits them; and how many photos it trained on. */
export async function measureFineTuneInNode(
  subset: string,
  session: OpenedSession,
  settings: PageSettings,
  modelDir: string,
): Promise<{ node: FineTuneTiming; trainImages: number }> {
  const log = logLine;
  log('fine-tuning in Node: frozen layers recomputed vs cut activations');
  const classes = (await readdir(subset)).sort();
  const files = (
    await Promise.all(classes.map(async (name, label) => (await readdir(join(subset, name))).sort().map((f) => ({ path: join(subset, name, f), label, name }))))
  ).flat();
  const split = splitImages(files.map((f) => ({ id: f.path, class: f.name })), settings);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const node = await timeFineTuneEpochs({
    modelDir,
    record: session.record,
    inputSize: settings.inputSize,
    classCount: classes.length,
    train: split.train.map((p) => byPath.get(p)!),
    validation: split.validation.map((p) => byPath.get(p)!),
    settings,
    log,
  });
  return { node, trainImages: split.train.length };
}
