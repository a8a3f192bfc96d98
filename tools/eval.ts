/**
 * `npm run eval -- --train <dir> --test <dir> [options]`: how well Graft trains, end to end. Seeds the training
 * class folders into a local state folder, trains in the real page (headless Chromium, the page's Session class:
 * farm extraction, head, optionally fine-tuning), exports the float32 model and classifies every image of the test
 * class folders with it in Node. With --export tflite-<kind>, the page also builds and checks that .tflite file,
 * and the test folders are classified again by running the file in LiteRT.js (headless Chromium).
 * Progress goes to stderr; the last stdout line is one JSON object.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync } from 'fflate';
import type { BackendChoice } from '../shared/farm';
import { LEARNING_RATE_SCHEDULES, VIEWS_PER_EPOCH, type History, type LearningRateSchedule, type Stage, type ViewsPerEpoch } from '../shared/training';
import type { TfliteKind } from '../shared/trainer-messages';
import type { PageSettings } from '../client/page/run-planner';
import { DEFAULT_SETTINGS } from '../client/trainer/settings';
import { useBackend } from './measure/tf-node';
import { scanClassFolders } from './ingest/class-folders';
import { DEFAULT_MODEL_DIR } from './ingest/defaults';
import { normalise } from '../client/engine/preprocess';
import { LABELS_FILE } from '../client/tflite/metadata';
import { MODEL_FILE } from '../client/tflite/package';
import { TFLITE_KINDS } from '../client/tflite/writer';
import { WEIGHTS_FILE } from '../client/trainer/export';
import { classifyFolder, loadExported, tfjsPredictor, type Predictor } from './measure/classify-folder';
import { openGraftPage } from './measure/graft-page/open';
import { openSession } from './measure/graft-page/session';
import { trainRun, type TrainRun } from './measure/graft-page/training';
import { exportFloat32, exportTflite } from './measure/graft-page/export';
import { publishRun, type PublishRun } from './measure/graft-page/publish';
import { openLiteRtBrowser, type LiteRtBrowser } from './measure/litert-browser';
import { UsageError, backendFlag, parseFlags, runCommand, wholeNumberFlag } from './measure/cli';
import { REPO_ROOT, ensurePageBuilt, loadProjectEnv, logLine, withTempDir } from './measure/project';
import { isDirectory, seedState } from './measure/seed-state';
import { openCacheDir, type CacheDir } from './measure/cache-dir';
import { DEFAULT_AUGMENTATION, type Augmentation } from '../shared/augmentation';

const USAGE = `Usage: npm run eval -- --train <dir> --test <dir> [options]

Trains a classifier on the class folders of --train (root/<class>/<image>) in the real page, in headless
Chromium, then measures the exported model on every image of the --test class folders (in Node).

  --train <dir>             Class folders to train on (20% of each class is held out for validation).
  --test <dir>              Class folders to test on; classes absent from --train and non-images are skipped.
  --epochs <n>              Head epochs. Default ${DEFAULT_SETTINGS.headEpochs}, the page's.
  --fine-tune               Then fine-tune the base from fine_tune_at ${DEFAULT_SETTINGS.fineTuneAt} on (the page's).
  --fine-tune-epochs <n>    Fine-tuning epochs with --fine-tune. Default ${DEFAULT_SETTINGS.fineTuneEpochs}, the page's.
  --fine-tune-lr <x>        Fine-tuning learning rate with --fine-tune. Default: the page's (learning rate / ${DEFAULT_SETTINGS.fineTuneLrDivisor}).
  --fine-tune-schedule <s>  constant or cosine (decay to 0 over stage 2's steps). Default: the page's.
  --fine-tune-at <layer>    First fine-tuned layer of the base: an index or a layer name. Default: the page's.
  --label-smoothing <x>     Label smoothing of the training loss, in [0, 1). Default: the page's.
  --augment <K>             Augmented views per training image. Default: the page's.
  --views-per-epoch <v>     one (each epoch trains on one view of each image, in turn) or all. Default: the page's.
  --rotation <x>            Augmentation's rotation factor (a fraction of a full turn). Default 0.2.
  --zoom <x>                Augmentation's zoom factor. Default 0.2.
  --folds <k>               Stratified k-fold cross-validation on --train: k runs, each validating on one fold and
                            training on the others (features extracted once); reports the mean and spread, and
                            classifies --test with each fold's model. Default 1 (one 80/20 split).
  --model <dir|id>          Base model folder to seed, or the id of one already in a kept state.
                            Default defaults/mobilenet_v2_0.35_224_no_top, the base this repository carries.
  --workers <n>             Extraction workers. Default: the page's (cores, at most 8).
  --backend <b>             auto, wasm, webgpu (SwiftShader here) or cpu. Default auto.
  --input-size <px>         Square input side. Default: the model's.
  --keep-state              Seed into .local/eval-state and keep it (default: a temp folder, removed).
  --cache-dir <dir>         Keep the seeded state and the page's feature cache (IndexedDB) in <dir>, so later runs
                            with the same dir extract only what is new (e.g. more augmented views).
  --export <kind>           What to classify --test with: tfjs (the float32 TF.js model, default), tflite-float32,
                            tflite-float16 or tflite-int8 (the .tflite file the page builds and checks, run in
                            LiteRT.js in headless Chromium).
  --out <dir>               Keep the exported files there: model.tflite + labels.txt, or model.json + weights.bin.
  --publish                 Then publish the classifier from the page as a visitor does (the Publish panel's
                            code: int8 and float32 TFLite files checked in LiteRT.js, labels, model card) to the
                            eval's own server, started with PUBLISH=open. Its link lives as long as that state:
                            keep it with --keep-state or --cache-dir.
  -h, --help                Show this text.

Prints progress to stderr and, as the last stdout line, one JSON object:
{"test_accuracy" (always the TF.js model's), "per_class", "head_val_accuracy", "fine_tune_val_accuracy", "backend",
 "workers", "images_per_s", "seconds", "skipped", ..., "export", "export_test_accuracy", "export_bytes",
 "export_agreement" (share of test images where the export's top-1 equals the TF.js model's), "export_ms_per_image",
 "folds", "val_accuracy_mean", "val_accuracy_std", "extraction_seconds", "training_seconds", ...,
 "published_id", "publish_bytes" (its files), "publish_requests" (API requests the publish made): null without --publish}
Validation accuracies are those of the epoch each stage kept (its lowest validation loss). With --folds, the
accuracies are means over the folds, "fold_runs" lists each fold's figures, and --export and --out use the first
fold's model.`;

const EXPORTS = ['tfjs', ...TFLITE_KINDS.map((k) => `tflite-${k}` as const)] as const;
type ExportChoice = (typeof EXPORTS)[number];


interface EvalOptions {
  train: string;
  test: string;
  headEpochs: number;
  fineTuneEpochs: number;
  model: string;
  workers: number | null;
  backend: BackendChoice;
  inputSize: number | null;
  keepState: boolean;
  fineTuneLearningRate: number | null;
  augmentViews: number | null;
  viewsPerEpoch: ViewsPerEpoch | null;
  augmentation: Augmentation;
  fineTuneSchedule: LearningRateSchedule | null;
  fineTuneAt: number | string | null;
  labelSmoothing: number | null;
  cacheDir: string | null;
  folds: number;
  export: ExportChoice;
  out: string | null;
  publish: boolean;
}

function parseEvalArgs(argv: string[]): EvalOptions | null {
  const values = parseFlags(argv, {
    train: { type: 'string' },
    test: { type: 'string' },
    epochs: { type: 'string' },
    'fine-tune': { type: 'boolean' },
    'fine-tune-epochs': { type: 'string' },
    'fine-tune-lr': { type: 'string' },
    augment: { type: 'string' },
    'views-per-epoch': { type: 'string' },
    rotation: { type: 'string' },
    zoom: { type: 'string' },
    'fine-tune-schedule': { type: 'string' },
    'fine-tune-at': { type: 'string' },
    'label-smoothing': { type: 'string' },
    'cache-dir': { type: 'string' },
    folds: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
    backend: { type: 'string' },
    'input-size': { type: 'string' },
    'keep-state': { type: 'boolean' },
    export: { type: 'string' },
    out: { type: 'string' },
    publish: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  if (!values.train || !values.test) throw new UsageError('give both --train and --test');
  const backend = backendFlag(values.backend);
  const exportChoice = (values.export ?? 'tfjs') as ExportChoice;
  if (!EXPORTS.includes(exportChoice)) throw new UsageError(`--export must be one of ${EXPORTS.join(', ')}, got ${values.export}`);
  if (values['fine-tune-epochs'] !== undefined && !values['fine-tune']) throw new UsageError('--fine-tune-epochs needs --fine-tune');
  for (const flag of ['fine-tune-epochs', 'fine-tune-lr', 'fine-tune-schedule', 'fine-tune-at'] as const) {
    if (values[flag] !== undefined && !values['fine-tune']) throw new UsageError(`--${flag} needs --fine-tune`);
  }
  const fineTuneLearningRate = values['fine-tune-lr'] === undefined ? null : Number(values['fine-tune-lr']);
  if (fineTuneLearningRate !== null && !(fineTuneLearningRate > 0 && fineTuneLearningRate < 1)) {
    throw new UsageError(`--fine-tune-lr ${values['fine-tune-lr']} must be a number between 0 and 1`);
  }
  const schedule = values['fine-tune-schedule'] as LearningRateSchedule | undefined;
  if (schedule !== undefined && !LEARNING_RATE_SCHEDULES.includes(schedule)) {
    throw new UsageError(`--fine-tune-schedule must be one of ${LEARNING_RATE_SCHEDULES.join(', ')}, got ${schedule}`);
  }
  const viewsPerEpoch = values['views-per-epoch'] as ViewsPerEpoch | undefined;
  if (viewsPerEpoch !== undefined && !VIEWS_PER_EPOCH.includes(viewsPerEpoch)) {
    throw new UsageError(`--views-per-epoch must be one of ${VIEWS_PER_EPOCH.join(', ')}, got ${viewsPerEpoch}`);
  }
  const fineTuneAtText = values['fine-tune-at'];
  const fraction = (flag: 'label-smoothing' | 'rotation' | 'zoom'): number | null => {
    const text = values[flag];
    if (text === undefined) return null;
    const value = Number(text);
    if (!(value >= 0 && value < 1)) throw new UsageError(`--${flag} ${text} must be a number in [0, 1)`);
    return value;
  };
  return {
    train: resolve(values.train),
    test: resolve(values.test),
    headEpochs: wholeNumberFlag(values.epochs, 'epochs', 1) ?? DEFAULT_SETTINGS.headEpochs,
    fineTuneEpochs: values['fine-tune'] ? (wholeNumberFlag(values['fine-tune-epochs'], 'fine-tune-epochs', 1) ?? DEFAULT_SETTINGS.fineTuneEpochs) : 0,
    model: values.model ?? DEFAULT_MODEL_DIR,
    workers: wholeNumberFlag(values.workers, 'workers', 1),
    backend,
    inputSize: wholeNumberFlag(values['input-size'], 'input-size', 16),
    keepState: values['keep-state'] ?? false,
    fineTuneLearningRate,
    augmentViews: wholeNumberFlag(values.augment, 'augment', 0),
    viewsPerEpoch: viewsPerEpoch ?? null,
    augmentation: {
      ...DEFAULT_AUGMENTATION,
      rotation: fraction('rotation') ?? DEFAULT_AUGMENTATION.rotation,
      zoom: fraction('zoom') ?? DEFAULT_AUGMENTATION.zoom,
    },
    fineTuneSchedule: schedule ?? null,
    fineTuneAt: fineTuneAtText === undefined ? null : /^\d+$/.test(fineTuneAtText) ? Number(fineTuneAtText) : fineTuneAtText,
    labelSmoothing: fraction('label-smoothing'),
    cacheDir: values['cache-dir'] ? resolve(values['cache-dir']) : null,
    folds: wholeNumberFlag(values.folds, 'folds', 1) ?? 1,
    export: exportChoice,
    out: values.out ? resolve(values.out) : null,
    publish: values.publish ?? false,
  };
}

/** Validation accuracy of the weights a stage kept (its best epoch; the last one in a history without `kept`). */
function keptOfStage({ epochs, kept }: History, stage: Stage): number | null {
  const epoch = kept?.[stage];
  return (epoch === undefined ? epochs.filter((e) => e.stage === stage).at(-1) : epochs.find((e) => e.epoch === epoch))?.valAccuracy ?? null;
}

async function evaluate(options: EvalOptions, stateDir: string, cache: CacheDir | null): Promise<Record<string, unknown>> {
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
      fineTuneAt: options.fineTuneAt ?? DEFAULT_SETTINGS.fineTuneAt,
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

  log(`classifying ${options.test} in Node`);
  await useBackend('wasm');
  const tests: Awaited<ReturnType<typeof classifyFolder>>[] = [];
  let metadata;
  for (const { exported } of runs) {
    const classifier = await loadExported(exported.modelJson, exported.weightsBin);
    tests.push(await classifyFolder(options.test, classifier.metadata, tfjsPredictor(classifier), log));
    metadata ??= classifier.metadata;
    classifier.model.dispose();
  }
  const test = tests[0];
  const { exported } = runs[0];
  let exportTest = test;
  let exportBytes = new TextEncoder().encode(exported.modelJson).byteLength + exported.weightsBin.byteLength;
  if (tflite) {
    const file = tflite[MODEL_FILE];
    exportBytes = file.byteLength;
    log(`classifying ${options.test} with ${MODEL_FILE} in LiteRT.js (headless Chromium)`);
    const runtime = await openLiteRtBrowser();
    try {
      exportTest = await classifyFolder(options.test, metadata!, tflitePredictor(runtime, file, tfliteKind!, metadata!.preprocessing), log);
    } finally {
      await runtime.close();
    }
  }
  if (options.out) {
    await mkdir(options.out, { recursive: true });
    const files: [string, Uint8Array | string][] = tflite
      ? [[MODEL_FILE, tflite[MODEL_FILE]], [LABELS_FILE, tflite[LABELS_FILE]]]
      : [['model.json', exported.modelJson], [WEIGHTS_FILE, new Uint8Array(exported.weightsBin)]];
    for (const [name, data] of files) await writeFile(join(options.out, name), data);
    log(`kept ${files.map(([name]) => name).join(' + ')} in ${options.out}`);
  }
  const agreeing = exportTest.predictions.filter((p, i) => p === test.predictions[i]).length;
  for (const s of test.skipped) log(`  skipped test ${s.file}: ${s.reason}`);
  const extraction = runs[0].run.extraction;
  const trainSkipped = [...seeded.skipped, ...(extraction?.failed ?? [])];
  for (const s of trainSkipped) log(`  skipped training ${s.file}: ${s.reason}`);

  const folds = runs.map(({ run }, i) => ({
    head_val_accuracy: keptOfStage(run.history!, 'head'),
    fine_tune_val_accuracy: options.fineTuneEpochs > 0 ? keptOfStage(run.history!, 'fine-tune') : null,
    test_accuracy: tests[i].accuracy,
  }));
  const stage = (key: 'head_val_accuracy' | 'fine_tune_val_accuracy') =>
    folds[0][key] === null ? { mean: null, std: null } : meanAndStd(folds.map((f) => f[key]!));
  const finalStage = options.fineTuneEpochs > 0 ? 'fine_tune_val_accuracy' : 'head_val_accuracy';
  const validation = meanAndStd(folds.map((f) => f[finalStage]!));
  return {
    test_accuracy: tests.every((t) => t.accuracy !== null) ? meanAndStd(tests.map((t) => t.accuracy!)).mean : null,
    per_class: test.perClass,
    head_val_accuracy: stage('head_val_accuracy').mean,
    fine_tune_val_accuracy: stage('fine_tune_val_accuracy').mean,
    backend: trainerBackend,
    farm_backends: [...new Set(extraction?.backends.map((b) => b.backend) ?? [])],
    // The forward pass's engine in each extraction worker: LiteRT.js (with its accelerator) or TF.js.
    farm_engines: [...new Set(extraction?.backends.map((b) => (b.liteRt ? `litert-${b.liteRt.accelerator}` : `tfjs-${b.backend}`)) ?? [])],
    workers,
    images_per_s: extraction && extraction.seconds > 0 ? extraction.done / extraction.seconds : null,
    // performance.now() counts from the start of this process: the whole command's wall time.
    seconds: performance.now() / 1000,
    classes,
    test_images: test.classified,
    train_images: extraction?.done ?? null,
    head_epochs: options.headEpochs,
    fine_tune_epochs: options.fineTuneEpochs,
    skipped: test.skipped,
    train_skipped: trainSkipped,
    folds: options.folds,
    val_accuracy_mean: validation.mean,
    val_accuracy_std: validation.std,
    head_val_accuracy_std: stage('head_val_accuracy').std,
    fine_tune_val_accuracy_std: stage('fine_tune_val_accuracy').std,
    augment_views: options.augmentViews ?? DEFAULT_SETTINGS.augmentViews,
    augment_rotation: options.augmentation.rotation,
    augment_zoom: options.augmentation.zoom,
    views_per_epoch: settingsUsed.viewsPerEpoch ?? 'all',
    fine_tune_lr: options.fineTuneEpochs > 0 ? DEFAULT_SETTINGS.learningRate / settingsUsed.fineTuneLrDivisor : null,
    fine_tune_schedule: options.fineTuneEpochs > 0 ? (settingsUsed.fineTuneSchedule ?? 'constant') : null,
    fine_tune_at: options.fineTuneEpochs > 0 ? settingsUsed.fineTuneAt : null,
    label_smoothing: settingsUsed.labelSmoothing ?? 0,
    // Summed over the folds: with --cache-dir, extraction counts only what earlier runs had not stored.
    extraction_seconds: runs.reduce((sum, { run }) => sum + (run.extraction?.seconds ?? 0), 0),
    training_seconds: runs.reduce((sum, { run }) => sum + run.history!.epochs.reduce((s, e) => s + e.seconds, 0), 0),
    fold_runs: folds,
    export: options.export,
    export_test_accuracy: exportTest.accuracy,
    export_bytes: exportBytes,
    export_agreement: test.predictions.length > 0 ? agreeing / test.predictions.length : null,
    export_ms_per_image: exportTest.msPerImage,
    published_id: published?.id ?? null,
    publish_bytes: published?.bytes ?? null,
    publish_requests: published?.requests ?? null,
  };
}

/** A .tflite file in LiteRT.js as a predictor: float32 preprocessed input, or int8's uint8 pixels. */
function tflitePredictor(runtime: LiteRtBrowser, file: Uint8Array, kind: TfliteKind, preprocessing: { scale: number; offset: number }): Predictor {
  return async (pixels) => {
    const inputs = tf.tidy(() =>
      tf.unstack(kind === 'int8' ? tf.round(pixels) : normalise(pixels, preprocessing)).map((image) =>
        kind === 'int8' ? Uint8Array.from(image.dataSync()) : (image.dataSync() as Float32Array).slice(),
      ),
    );
    const { outputs, msPerImage } = await runtime.run(file, inputs);
    return { top1: outputs.map((o) => o.indexOf(Math.max(...o))), ms: msPerImage * inputs.length };
  };
}

/** Mean and sample standard deviation (0 for a single value). */
function meanAndStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

async function main(): Promise<void> {
  const options = parseEvalArgs(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  loadProjectEnv();
  const cache = options.cacheDir ? await openCacheDir(options.cacheDir, logLine) : null;
  const result = cache
    ? await evaluate(options, cache.state, cache)
    : options.keepState
      ? await evaluate(options, join(REPO_ROOT, '.local', 'eval-state'), null)
      : await withTempDir('graft-eval-', (dir) => evaluate(options, join(dir, 'state'), null));
  console.log(JSON.stringify(result));
}

await runCommand('eval', main);
