/**
 * `npm run bench`: how fast Graft is on this machine, in one run over the same real photos (flowers, seeded into a
 * temp state). In the real page (headless Chromium, the page's Session class): the extraction pipeline with one
 * worker and with N (empty feature cache each time; the forward pass on LiteRT.js where it passes its check),
 * forward passes alone on N extraction workers (the pipeline's ceiling) on the tfjs compiled base and on LiteRT.js,
 * and head and fine-tuning epochs from the cache. In Node (wasm, one thread): a fine-tuning epoch that recomputes
 * the frozen layers from the images against one from the cut activations. And the time per image of the
 * TF.js model against its float32 and int8 TFLite files in LiteRT.js. And Live: frames from the browser's fake camera
 * classified per second by the trained classifier (one worker). And the classify-only page /m/<id> of that classifier,
 * published and opened with an empty browser cache: navigation to its first prediction of a photo, and the bytes of
 * that first visit. Measurements only: nothing is asserted.
 * Readable lines first; the last stdout line is one JSON object.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MAX_CHUNK_SIZE, type BackendChoice, type BackendReport, type WorkerMemory } from '../shared/farm';
import type { EpochRecord } from '../shared/training';
import type { ModelRecord } from '../shared/records';
import type { TfliteSignature } from '../shared/trainer-messages';
import { modelCardOf } from '../shared/model-card';
import type { PublishInput } from '../client/api/publications';
import type { PageSettings } from '../client/page/run-planner';
import { DEFAULT_SETTINGS } from '../client/trainer/settings';
import { LITERT_SETTINGS } from '../client/farm/farm';
import { splitImages } from '../client/trainer/split';
import { PROFILE_STEPS, PROFILE_WARM_UP, timeFineTuneEpochs } from './measure/fine-tune-timing';
import { profileInBrowser, profileLines, profileSummary } from './measure/fine-tune-profile';
import { openGraftPage } from './measure/graft-page/open';
import { openSession } from './measure/graft-page/session';
import { trainRun, type TrainRun } from './measure/graft-page/training';
import { exportTflite } from './measure/graft-page/export';
import { extractionRun, type ExtractionRun } from './measure/graft-page/extraction';
import { extractWorkerPath, predictRun } from './measure/graft-page/predict';
import { liveRun } from './measure/graft-page/live';
import { backendFlag, parseFlags, runCommand, wholeNumberFlag } from './measure/cli';
import { REPO_ROOT, ensurePageBuilt, loadProjectEnv, logLine, withTempDir } from './measure/project';
import { linkSubset, seedState } from './measure/seed-state';
import { writeY4m } from './measure/fake-camera';
import { coldFirstVisit } from './measure/classify-page';

const USAGE = `Usage: npm run bench -- [options]

Measures the extraction farm, forward passes and training on real flower photos, in headless Chromium on the
real page (and one fine-tuning comparison in Node). Takes a few minutes on two cores.

  --workers <n>             Workers of the N-worker runs. Default: navigator.hardwareConcurrency.
  --per-class <n>           Photos per flower class (5 classes). Default 60.
  --backend <b>             auto, wasm, webgpu (SwiftShader here) or cpu. Default auto.
  --predict-images <n>      Forward passes per worker in the predict-only runs (layers model, compiled base). Default 96.
  --head-epochs <n>         Head epochs (the first is warm-up). Default 3.
  --fine-tune-epochs <n>    Fine-tuning epochs from the cache (the first is warm-up). Default 2.
  --live-seconds <n>        Seconds Live classifies the fake camera (30 frames/s of flower photos). Default 10.
  -h, --help                Show this text.`;

const SHARED = resolve(REPO_ROOT, '..', 'shared');
const FLOWERS = join(SHARED, 'datasets', 'flowers');
const MODEL_DIR = join(SHARED, 'models', 'mobilenet_v2_0.35_224_no_top');
/** Photos in the fake camera's video, and the frames Live classifies before it is timed. */
const CAMERA_PHOTOS = 8;
const LIVE_WARM_UP_FRAMES = 5;

interface BenchOptions {
  workers: number | null;
  perClass: number;
  backend: BackendChoice;
  predictImages: number;
  headEpochs: number;
  fineTuneEpochs: number;
  liveSeconds: number;
}

function parseBenchArgs(argv: string[]): BenchOptions | null {
  const values = parseFlags(argv, {
    workers: { type: 'string' },
    'per-class': { type: 'string' },
    backend: { type: 'string' },
    'predict-images': { type: 'string' },
    'head-epochs': { type: 'string' },
    'fine-tune-epochs': { type: 'string' },
    'live-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  return {
    workers: wholeNumberFlag(values.workers, 'workers', 1),
    perClass: wholeNumberFlag(values['per-class'], 'per-class', 2) ?? 60,
    backend: backendFlag(values.backend),
    predictImages: wholeNumberFlag(values['predict-images'], 'predict-images', 1) ?? 96,
    headEpochs: wholeNumberFlag(values['head-epochs'], 'head-epochs', 1) ?? 3,
    fineTuneEpochs: wholeNumberFlag(values['fine-tune-epochs'], 'fine-tune-epochs', 1) ?? 2,
    liveSeconds: wholeNumberFlag(values['live-seconds'], 'live-seconds', 1) ?? 10,
  };
}

/** Mean epoch seconds of a stage without its first epoch (warm-up), or the first when it is the only one. */
function steadyEpochSeconds(epochs: EpochRecord[], stage: EpochRecord['stage']): number | null {
  const own = epochs.filter((e) => e.stage === stage).map((e) => e.seconds);
  const steady = own.length > 1 ? own.slice(1) : own;
  return steady.length > 0 ? steady.reduce((a, b) => a + b, 0) / steady.length : null;
}

const round = (x: number | null, digits = 3): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MB`);
const memoryText = (m: WorkerMemory) => `${m.numTensors} tensors, ${mb(m.numBytes)} tensor bytes, JS heap ${mb(m.jsHeapBytes)}`;

const describeBackend = (b: BackendReport) =>
  `${b.backend}${b.simd ? ' simd' : ''}, ${b.threads} thread(s)${b.notes.length > 0 ? ` (${b.notes.join('; ')})` : ''}`;

/** Images per second once every worker had started (backend up, base loaded). */
const steadyRate = (run: ExtractionRun) => run.images / (run.seconds - run.startSeconds);

/** A training run that ended done, or the error that says how it ended. */
function finished(run: TrainRun): TrainRun {
  if (run.state !== 'done' || !run.history) throw new Error(`training in the page failed: ${run.error ?? `it ended ${run.state}`}`);
  return run;
}

/** The bench's classifier as the trainer's page publishes it: its float32 file runs, with its model card. */
async function publicationOf(
  session: { classes: string[]; record: ModelRecord },
  training: TrainRun,
  subset: string,
  float32: { file: Uint8Array; signature: TfliteSignature },
): Promise<PublishInput> {
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const card = modelCardOf({
    classes: session.classes,
    base: session.record,
    dataset: { name: 'Flowers (the bench subset)', imageCounts: await Promise.all(session.classes.map(async (c) => (await readdir(join(subset, c))).length)) },
    history: training.history!,
    evaluation: training.evaluation!,
    trainedAt: new Date(),
    graftVersion: version,
  });
  return { name: 'Flowers (bench)', description: 'Measured by the bench.', card, models: [{ kind: 'float32', ...float32 }], runs: 'float32' };
}

async function bench(options: BenchOptions, root: string): Promise<void> {
  const log = logLine;
  const out = (line: string) => console.log(line);
  await ensurePageBuilt(log);
  const subset = await linkSubset(join(root, 'flowers'), FLOWERS, options.perClass);
  log(`seeding ${options.perClass} flowers per class and the model into a temp state`);
  const seeded = await seedState(join(root, 'state'), subset, MODEL_DIR, log);

  // The fake camera plays daisies at 30 frames/s: Live can classify at most that many.
  const daisies = join(subset, 'daisy');
  const camera = await writeY4m(join(root, 'camera.y4m'), (await readdir(daisies)).sort().slice(0, CAMERA_PHOTOS).map((f) => join(daisies, f)), { fps: 30 });

  log('starting Graft and the page');
  const graft = await openGraftPage({ persistTo: join(root, 'state'), webgpu: options.backend === 'webgpu', camera, log, vars: { PUBLISH: 'open' } });
  let browser;
  try {
    const session = await openSession(graft.page, { datasetId: seeded.datasetId, modelId: seeded.modelId!, backend: options.backend });
    const workers = options.workers ?? session.hardwareConcurrency;
    const settings: PageSettings = {
      ...DEFAULT_SETTINGS,
      split: { validation: 0.2, test: 0 },
      augmentViews: 0,
      fineTuneAt: 100,
      headEpochs: options.headEpochs,
      // Planned fine-tuning makes the pipeline write the cut activations too, as a fine-tuning run's does.
      fineTuneEpochs: options.fineTuneEpochs,
      workers,
      backend: options.backend,
      inputSize: session.record.inputSize,
    };
    log(`${session.images} images; ${session.hardwareConcurrency} cores; cross-origin isolated: ${session.crossOriginIsolated}`);

    log('pipeline, 1 worker');
    const one = await extractionRun(graft.page, { ...settings, workers: 1 });
    log(`pipeline, ${workers} workers`);
    const many = await extractionRun(graft.page, settings);
    log(`forward passes alone, ${workers} workers x ${options.predictImages} images`);
    const predict = await predictRun(graft.page, {
      liteRt: LITERT_SETTINGS,
      workerPath: await extractWorkerPath(),
      workers,
      images: options.predictImages,
      batch: MAX_CHUNK_SIZE,
      settings,
    });
    log('training from the cache, fine-tuning on 1 worker');
    const trainingOne = finished(await trainRun(graft.page, { ...settings, workers: 1 }));
    log(`training from the cache, fine-tuning on ${workers} workers`);
    const training = finished(await trainRun(graft.page, settings));
    log('one stage-2 step profiled per kernel, in a browser worker on one thread');
    const profile = await profileInBrowser(graft.page, {
      modelDir: MODEL_DIR,
      bottleneck: session.record.bottleneck,
      inputSize: session.record.inputSize,
      backend: options.backend,
      options: { classCount: session.classes.length, settings, batch: settings.batchSize, warmUp: PROFILE_WARM_UP, steps: PROFILE_STEPS },
    });
    log('TFLite float32 and int8, each checked in LiteRT.js (one worker, wasm) on the validation images');
    const tflite = { float32: await exportTflite(graft.page, 'float32'), int8: await exportTflite(graft.page, 'int8') };
    log(`Live: the fake camera's frames through the page's classifier (LiteRT.js once its file is ready), ${options.liveSeconds} s`);
    const live = await liveRun(graft.page, { seconds: options.liveSeconds, warmUpFrames: LIVE_WARM_UP_FRAMES });
    log('the classify-only page of the classifier, published, in a browser with an empty cache: navigation to its first prediction');
    const input = await publicationOf(session, training, subset, tflite.float32);
    const photo = join(daisies, (await readdir(daisies)).sort()[CAMERA_PHOTOS]);
    const classifyPage = await coldFirstVisit(graft.origin, input, photo);
    browser = { session, workers, settings, one, many, predict, trainingOne, training, profile, tflite, live, classifyPage };
  } finally {
    await graft.close();
  }

  const { session, workers, settings, one, many, predict, trainingOne, training, profile, tflite, live, classifyPage } = browser;
  log('fine-tuning in Node: frozen layers recomputed vs cut activations');
  const classes = (await readdir(subset)).sort();
  const files = (
    await Promise.all(classes.map(async (name, label) => (await readdir(join(subset, name))).sort().map((f) => ({ path: join(subset, name, f), label, name }))))
  ).flat();
  const split = splitImages(files.map((f) => ({ id: f.path, class: f.name })), settings);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const node = await timeFineTuneEpochs({
    modelDir: MODEL_DIR,
    record: session.record,
    inputSize: settings.inputSize,
    classCount: classes.length,
    train: split.train.map((p) => byPath.get(p)!),
    validation: split.validation.map((p) => byPath.get(p)!),
    settings,
    log,
  });

  const predictRate = (workers * options.predictImages) / Math.max(...predict.seconds);
  const liteRtRate = predict.liteRtSeconds ? (workers * options.predictImages) / Math.max(...predict.liteRtSeconds) : null;
  /** The faster forward pass of the two engines: the ceiling of the pipeline, which runs on LiteRT.js wherever it passed its check. */
  const fasterRate = Math.max(predictRate, liteRtRate ?? 0);
  const liteRtReport = predict.backends[0]?.liteRt;
  const predictLayersRate = (workers * options.predictImages) / Math.max(...predict.layersSeconds);
  const pipeline1 = steadyRate(one);
  const pipelineN = steadyRate(many);
  const epochs = training.history!.epochs;
  const headEpoch = steadyEpochSeconds(epochs, 'head');
  const fineTuneEpoch = steadyEpochSeconds(epochs, 'fine-tune');
  const fineTuneEpochOne = steadyEpochSeconds(trainingOne.history!.epochs, 'fine-tune');
  // Stage 2 against the compiled forward pass, per image and per worker: one worker's fine-tune epoch over the
  // training photos, and a forward pass as each of the N workers made them side by side.
  const forwardMsPerImage = (1000 * workers) / predictRate;
  const fineTuneMsPerImage = fineTuneEpochOne === null ? null : (1000 * fineTuneEpochOne) / split.train.length;
  // Where an image's time goes in the N-worker pipeline: worker milliseconds per image in each stage, and the
  // time a worker waited for its next batch (page round trip, fetching bytes) once every worker had started.
  const stageMs = (seconds: number) => (seconds * 1000) / many.images;
  const busySeconds = Object.values(many.stageSeconds).reduce((a, b) => a + b, 0);
  const idleMs = stageMs(Math.max(0, (many.seconds - many.startSeconds) * workers - busySeconds));
  const threads = (run: ExtractionRun) => run.backends.map((b) => b.threads).join('/');
  const backend = many.backends[0]?.backend ?? predict.backends[0]?.backend ?? 'unknown';

  out(`${one.images} images, ${session.hardwareConcurrency} cores`);
  out(`farm workers: ${[...new Set([...one.backends, ...many.backends].map(describeBackend))].join('; ')}`);
  out(`trainer: ${describeBackend(session.trainer)}`);
  out(`pipeline, 1 worker (${threads(one)} threads):   ${pipeline1.toFixed(2)} images/s after a ${one.startSeconds.toFixed(1)} s start (${(one.images / one.seconds).toFixed(2)} over the whole ${one.seconds.toFixed(1)} s)`);
  out(`pipeline, ${workers} workers (${threads(many)} threads): ${pipelineN.toFixed(2)} images/s after a ${many.startSeconds.toFixed(1)} s start (${(many.images / many.seconds).toFixed(2)} over the whole ${many.seconds.toFixed(1)} s)`);
  out(`forward passes alone, ${workers} workers: ${predictRate.toFixed(2)} images/s (batch ${MAX_CHUNK_SIZE}; worker seconds ${predict.seconds.map((s) => s.toFixed(1)).join(', ')})`);
  out(`the same with the layers model: ${predictLayersRate.toFixed(2)} images/s (compiled base speedup ${(predictRate / predictLayersRate).toFixed(2)})`);
  out(
    liteRtRate === null
      ? `LiteRT.js did not start in the predict workers: ${predict.backends.flatMap((b) => b.notes).join('; ')}`
      : `the same on LiteRT.js (${liteRtReport!.accelerator}, ${liteRtReport!.build}, ${liteRtReport!.threads} thread(s), batch ${liteRtReport!.batch}): ${liteRtRate.toFixed(2)} images/s (speedup over the compiled base ${(liteRtRate / predictRate).toFixed(2)})`,
  );
  out(`pipeline engine, ${workers} workers: ${many.backends.map((b) => (b.liteRt ? `LiteRT.js ${b.liteRt.accelerator}` : `TF.js ${b.backend}`)).join(', ')}`);
  out(
    `an image's worker time, ${workers} workers: decode ${stageMs(many.stageSeconds.decode).toFixed(1)} ms, forward ${stageMs(many.stageSeconds.forward).toFixed(1)} ms, ` +
      `encode ${stageMs(many.stageSeconds.encode).toFixed(1)} ms, write ${stageMs(many.stageSeconds.write).toFixed(1)} ms, waiting ${idleMs.toFixed(1)} ms`,
  );
  out(`farm speedup ${workers}/1: ${(pipelineN / pipeline1).toFixed(2)}; pipeline / the faster forward passes alone: ${(pipelineN / fasterRate).toFixed(2)}`);
  out(`head epoch (browser, ${session.trainer.backend}): ${headEpoch?.toFixed(3)} s`);
  out(
    `fine-tune epoch from the cut cache (browser, ${session.trainer.backend}): ${fineTuneEpochOne?.toFixed(2)} s on 1 worker, ` +
      `${fineTuneEpoch?.toFixed(2)} s on ${workers} (speedup ${fineTuneEpochOne !== null && fineTuneEpoch ? (fineTuneEpochOne / fineTuneEpoch).toFixed(2) : 'n/a'})`,
  );
  out(
    `stage 2 per image, 1 worker: ${fineTuneMsPerImage?.toFixed(1)} ms (epoch over ${split.train.length} photos); compiled forward pass ` +
      `${forwardMsPerImage.toFixed(1)} ms per image per worker; finetune_vs_forward ${fineTuneMsPerImage === null ? 'n/a' : (fineTuneMsPerImage / forwardMsPerImage).toFixed(2)}`,
  );
  for (const line of profileLines(`one stage-2 step, browser worker (${describeBackend(profile.report)})`, profile)) out(line);
  for (const line of profileLines('one stage-2 step, Node (wasm, 1 thread)', node.profile)) out(line);
  out(
    `fine-tune epoch in Node (wasm, 1 thread, from ${node.fineTuneAtName}, ${node.cached.steps} steps of ${settings.batchSize}): ` +
      `${node.full.epochSeconds.toFixed(2)} s recomputing the frozen layers, ${node.cached.epochSeconds.toFixed(2)} s from the cut activations ` +
      `(speedup ${(node.full.epochSeconds / node.cached.epochSeconds).toFixed(2)})`,
  );
  for (const m of many.memory) {
    out(`farm worker ${m.worker} memory: after batch 1 ${memoryText(m.first)}; after batch ${m.batches} ${memoryText(m.last)}`);
  }
  predict.before.forEach((before, i) => out(`predict worker ${i} memory: after init ${memoryText(before)}; after ${options.predictImages} images ${memoryText(predict.after[i])}`));
  out(`page JS heap: ${mb(many.pageHeapBytes)}`);
  out(
    `classifying one image at a time: TF.js model ${tflite.int8.tfjsMsPerImage.toFixed(1)} ms (trainer worker, ${session.trainer.backend}); ` +
      `LiteRT.js wasm float32 ${tflite.float32.msPerImage?.toFixed(1)} ms, int8 ${tflite.int8.msPerImage?.toFixed(1)} ms`,
  );
  const liveFps = live.frames / live.seconds;
  out(
    `Live (${live.engine}, ${session.record.inputSize} px): ${liveFps.toFixed(1)} frames classified/s over ${live.seconds.toFixed(1)} s ` +
      `(the view showed ${live.shownFps?.toFixed(1)}; the camera gives 30); the worker's ${live.msPerFrame?.toFixed(1)} ms a frame, grab to probabilities`,
  );

  out(
    `classify page /m/<id> (float32 file, cold cache, localhost): first prediction ${classifyPage.ms.toFixed(0)} ms after navigation; ` +
      `${classifyPage.requests} requests (${classifyPage.apiRequests} to the API), ${mb(classifyPage.bytes)} raw, ${mb(classifyPage.gzipBytes)} gzipped ` +
      `(${mb(classifyPage.networkBytes)} came from the local server)`,
  );

  const summary = {
    backend,
    trainer_backend: session.trainer.backend,
    cores: session.hardwareConcurrency,
    workers,
    images: one.images,
    pipeline_images_per_s_1: round(pipeline1),
    pipeline_images_per_s_n: round(pipelineN),
    pipeline_wall_images_per_s_1: round(one.images / one.seconds),
    pipeline_wall_images_per_s_n: round(many.images / many.seconds),
    farm_start_s_1: round(one.startSeconds),
    farm_start_s_n: round(many.startSeconds),
    predict_images_per_s_n: round(predictRate),
    predict_images_per_s_layers_n: round(predictLayersRate),
    compiled_speedup: round(predictRate / predictLayersRate),
    farm_speedup: round(pipelineN / pipeline1),
    pipeline_ratio: round(pipelineN / fasterRate),
    image_ms_decode_n: round(stageMs(many.stageSeconds.decode)),
    image_ms_forward_n: round(stageMs(many.stageSeconds.forward)),
    image_ms_encode_n: round(stageMs(many.stageSeconds.encode)),
    image_ms_write_n: round(stageMs(many.stageSeconds.write)),
    image_ms_waiting_n: round(idleMs),
    head_epoch_s: round(headEpoch),
    finetune_epoch_s_cached: round(fineTuneEpoch),
    finetune_epoch_s_cached_1: round(fineTuneEpochOne),
    finetune_epoch_s_cached_n: round(fineTuneEpoch),
    finetune_farm_speedup: fineTuneEpochOne !== null && fineTuneEpoch ? round(fineTuneEpochOne / fineTuneEpoch) : null,
    finetune_epoch_s_full: round(node.full.epochSeconds),
    finetune_epoch_s_cached_node: round(node.cached.epochSeconds),
    finetune_cache_speedup: round(node.full.epochSeconds / node.cached.epochSeconds),
    seconds: round(performance.now() / 1000, 1),
    finetune_full_where: 'node wasm 1 thread (finetune_cache_speedup compares it with finetune_epoch_s_cached_node, same place)',
    tfjs_ms_per_image: round(tflite.int8.tfjsMsPerImage),
    tflite_ms_per_image_float32: round(tflite.float32.msPerImage),
    tflite_ms_per_image_int8: round(tflite.int8.msPerImage),
    live_fps: round(liveFps, 1),
    live_ms_per_frame: round(live.msPerFrame, 1),
    live_engine: live.engine,
    classify_first_prediction_ms: round(classifyPage.ms, 0),
    classify_first_visit_bytes: classifyPage.bytes,
    classify_first_visit_gzip_bytes: classifyPage.gzipBytes,
    classify_first_visit_api_requests: classifyPage.apiRequests,
    litert_images_per_s_n: round(liteRtRate),
    litert_speedup: liteRtRate === null ? null : round(liteRtRate / predictRate),
    litert_accelerator: liteRtReport?.accelerator ?? null,
    litert_build: liteRtReport?.build ?? null,
    litert_batch: liteRtReport?.batch ?? null,
    pipeline_engine_n: many.backends.every((b) => b.liteRt) ? 'litert' : many.backends.some((b) => b.liteRt) ? 'mixed' : 'tfjs',
    predict_ms_per_image_worker: round(forwardMsPerImage),
    finetune_ms_per_image_1: round(fineTuneMsPerImage),
    finetune_vs_forward: fineTuneMsPerImage === null ? null : round(fineTuneMsPerImage / forwardMsPerImage),
    finetune_profile: { where: `browser worker, ${describeBackend(profile.report)}`, ...profileSummary(profile) },
    finetune_profile_node: { where: 'node wasm 1 thread', ...profileSummary(node.profile) },
    memory: {
      farm_workers: many.memory,
      predict_workers: predict.before.map((before, i) => ({ before, after: predict.after[i] })),
      page_js_heap_bytes: many.pageHeapBytes,
    },
  };
  out(JSON.stringify(summary));
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  loadProjectEnv();
  await withTempDir('graft-bench-', (root) => bench(options, root));
}

await runCommand('bench', main, { stack: true });
