/**
 * The page part of `npm run eval`: checks both class-folder inputs, seeds --train (and the base model) into the
 * state folder, then trains in the real page, fold after fold, exporting each fold's float32 model; with --export
 * tflite-<kind> the page also builds and checks that file, and with --publish it publishes the classifier.
 */
import { unzipSync } from 'fflate';
import type { TfliteKind } from '../../shared/trainer-messages';
import type { PageSettings } from '../../client/page/run-planner';
import { DEFAULT_SETTINGS, defaultFineTuneAt } from '../../client/trainer/settings';
import { scanClassFolders } from '../ingest/class-folders';
import { UsageError } from '../measure/cli';
import { ensurePageBuilt, logLine } from '../measure/project';
import { isDirectory, seedState, type SeededState } from '../measure/seed-state';
import type { CacheDir } from '../measure/cache-dir';
import { openGraftPage } from '../measure/graft-page/open';
import { openSession } from '../measure/graft-page/session';
import { trainRun, type TrainRun } from '../measure/graft-page/training';
import { exportFloat32, exportTflite } from '../measure/graft-page/export';
import { publishRun, type PublishRun } from '../measure/graft-page/publish';
import type { EvalOptions } from './options';

/** What the page trained and made: one run and float32 model per fold, and the first fold's TFLite file and publication. */
export interface EvalTraining {
  seeded: SeededState;
  runs: { run: TrainRun; exported: Awaited<ReturnType<typeof exportFloat32>> }[];
  /** The TFLite kind --export asked for (null for tfjs), and the files of its zip. */
  tfliteKind: TfliteKind | null;
  tflite: Record<string, Uint8Array> | null;
  published: PublishRun | null;
  workers: number;
  trainerBackend: string;
  classes: string[];
  settings: PageSettings;
}

export async function trainInPage(options: EvalOptions, stateDir: string, cache: CacheDir | null): Promise<EvalTraining> {
  const log = logLine;
  // Input problems are found before anything slow starts.
  const [trainScan, testScan] = await Promise.all(
    (['train', 'test'] as const).map((flag) =>
      scanClassFolders(options[flag], { followLinks: true }).catch((error: Error) => {
        throw new UsageError(`--${flag}: ${error.message}`);
      }),
    ),
  );
  const trainClasses = new Set(trainScan.classes.map((c) => c.name));
  if (!testScan.classes.some((c) => trainClasses.has(c.name))) {
    throw new UsageError(`no class folder of --test (${testScan.classes.map((c) => c.name).join(', ')}) is a class of --train`);
  }
  const modelDir = (await isDirectory(options.model)) ? options.model : null;
  if (!modelDir && /[\\/]/.test(options.model)) throw new UsageError(`--model ${options.model} is not a directory`);
  await ensurePageBuilt(log);
  log(`seeding ${options.train}${modelDir ? ` and the model ${modelDir}` : ''} into ${stateDir}`);
  const seeded = await seedState(stateDir, options.train, modelDir, log);
  const modelId = seeded.modelId ?? options.model;

  log('starting Graft and the page');
  const graft = await openGraftPage({
    persistTo: stateDir,
    webgpu: options.backend === 'webgpu',
    log,
    ...(cache ? { profile: cache.profile, port: cache.port } : {}),
    ...(options.publish ? { vars: { PUBLISH: 'open' } } : {}),
  });
  const tfliteKind = options.export === 'tfjs' ? null : (options.export.slice('tflite-'.length) as TfliteKind);
  let tflite: Record<string, Uint8Array> | null = null;
  let published: PublishRun | null = null;
  const runs: { run: TrainRun; exported: Awaited<ReturnType<typeof exportFloat32>> }[] = [];
  let workers: number;
  let trainerBackend: string;
  let classes: string[];
  let settingsUsed: PageSettings;
  try {
    const session = await openSession(graft.page, { datasetId: seeded.datasetId, modelId, backend: options.backend });
    classes = session.classes;
    trainerBackend = session.trainer.backend;
    workers = options.workers ?? Math.min(8, session.hardwareConcurrency || 2);
    log(
      `dataset ${seeded.datasetId}: ${session.images} images in ${classes.length} classes; trainer on ${trainerBackend}` +
        `${session.trainer.threads > 1 ? ` (${session.trainer.threads} threads)` : ''}; ${workers} extraction worker(s)`,
    );
    const settings: PageSettings = {
      ...DEFAULT_SETTINGS,
      split: { validation: 0.2, test: 0 },
      headEpochs: options.headEpochs,
      fineTuneEpochs: options.fineTuneEpochs,
      augmentViews: options.augmentViews ?? DEFAULT_SETTINGS.augmentViews,
      viewsPerEpoch: options.viewsPerEpoch ?? DEFAULT_SETTINGS.viewsPerEpoch,
      augmentation: options.augmentation,
      fineTuneSchedule: options.fineTuneSchedule ?? DEFAULT_SETTINGS.fineTuneSchedule,
      fineTuneAt: options.fineTuneAt ?? defaultFineTuneAt(session.baseLayers),
      labelSmoothing: options.labelSmoothing ?? DEFAULT_SETTINGS.labelSmoothing,
      fineTuneLrDivisor: options.fineTuneLearningRate ? DEFAULT_SETTINGS.learningRate / options.fineTuneLearningRate : DEFAULT_SETTINGS.fineTuneLrDivisor,
      workers,
      backend: options.backend,
      inputSize: options.inputSize ?? session.record.inputSize,
    };
    settingsUsed = settings;
    // Folds run one after another in the same page: each extracts only what the cache still lacks.
    for (let index = 0; index < options.folds; index++) {
      const split = options.folds > 1 ? { ...settings.split, fold: { count: options.folds, index } } : settings.split;
      if (options.folds > 1) log(`fold ${index + 1} of ${options.folds}`);
      const run = await trainRun(graft.page, { ...settings, split });
      if (run.state !== 'done' || !run.history) throw new Error(`training in the page failed: ${run.error ?? `it ended ${run.state}`}`);
      log('exporting the float32 model');
      runs.push({ run, exported: await exportFloat32(graft.page) });
      if (tfliteKind && index === 0) {
        log(`building and checking the ${tfliteKind} TFLite file in the page`);
        const built = await exportTflite(graft.page, tfliteKind);
        if (!built.zip) throw new Error(`the page did not offer the ${tfliteKind} TFLite file: ${built.failure}`);
        tflite = unzipSync(built.zip);
      }
      if (options.publish && index === 0) {
        log('publishing the classifier from the page (PUBLISH=open)');
        published = await publishRun(graft.page, { name: `Graft eval: ${seeded.datasetId}`.slice(0, 80), description: `Trained by npm run eval on ${seeded.datasetId}.` });
        log(`published ${published.url} (${published.bytes} bytes, runs the ${published.runs} file, ${published.requests} requests)`);
      }
    }
  } finally {
    await graft.close();
  }

  return { seeded, runs, tfliteKind, tflite, published, workers, trainerBackend, classes, settings: settingsUsed };
}
