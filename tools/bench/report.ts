/**
 * `npm run bench`'s report, from every group's runs: the readable lines, then the last stdout line, one JSON object
 * (a stable contract: keys are added, never renamed or dropped). Measurements only: nothing is asserted.
 */
import { MAX_CHUNK_SIZE, type BackendReport, type WorkerMemory } from '../../shared/farm';
import type { EpochRecord } from '../../shared/training';
import type { PageSettings } from '../../client/page/run-planner';
import type { FineTuneTiming } from '../measure/fine-tune-timing';
import { profileLines, profileSummary } from '../measure/fine-tune-profile';
import type { OpenedSession } from '../measure/graft-page/session';
import type { ExtractionRun } from '../measure/graft-page/extraction';
import type { FarmRuns } from './farm';
import type { TrainingRuns } from './training';
import type { ClassifierRuns } from './classifier';

/** Everything the bench measured; `settings.workers` is N. */
export interface BenchRuns {
  session: OpenedSession;
  settings: PageSettings;
  predictImages: number;
  farm: FarmRuns;
  training: TrainingRuns;
  classifier: ClassifierRuns;
  /** The Node fine-tuning comparison, and the photos its epochs (and the page's) trained on. */
  node: FineTuneTiming;
  trainImages: number;
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

export function reportBench(runs: BenchRuns): void {
  const out = (line: string) => console.log(line);
  const { session, settings, predictImages, node, trainImages } = runs;
  const { workers } = settings;
  const { one, many, predict } = runs.farm;
  const { trainingOne, training, profile } = runs.training;
  const { tflite, live, classifyPage } = runs.classifier;

  const predictRate = (workers * predictImages) / Math.max(...predict.seconds);
  const liteRtRate = predict.liteRtSeconds ? (workers * predictImages) / Math.max(...predict.liteRtSeconds) : null;
  /** The faster forward pass of the two engines: the ceiling of the pipeline, which runs on LiteRT.js wherever it passed its check. */
  const fasterRate = Math.max(predictRate, liteRtRate ?? 0);
  const liteRtReport = predict.backends[0]?.liteRt;
  const predictLayersRate = (workers * predictImages) / Math.max(...predict.layersSeconds);
  const pipeline1 = steadyRate(one);
  const pipelineN = steadyRate(many);
  const epochs = training.history!.epochs;
  const headEpoch = steadyEpochSeconds(epochs, 'head');
  const fineTuneEpoch = steadyEpochSeconds(epochs, 'fine-tune');
  const fineTuneEpochOne = steadyEpochSeconds(trainingOne.history!.epochs, 'fine-tune');
  // Stage 2 against the compiled forward pass, per image and per worker: one worker's fine-tune epoch over the
  // training photos, and a forward pass as each of the N workers made them side by side.
  const forwardMsPerImage = (1000 * workers) / predictRate;
  const fineTuneMsPerImage = fineTuneEpochOne === null ? null : (1000 * fineTuneEpochOne) / trainImages;
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
    `stage 2 per image, 1 worker: ${fineTuneMsPerImage?.toFixed(1)} ms (epoch over ${trainImages} photos); compiled forward pass ` +
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
  predict.before.forEach((before, i) => out(`predict worker ${i} memory: after init ${memoryText(before)}; after ${predictImages} images ${memoryText(predict.after[i])}`));
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
