/**
 * The real Graft page for the measurement commands: `wrangler dev` on a seeded state folder, headless Chromium on
 * the built page, and the steps eval and bench drive through the page's own Session class (window.graft): choose
 * a dataset and a base model, extract, train, export. Progress from the page comes back as log lines.
 *
 * The functions handed to page.evaluate run in the browser: they may only use their arguments and the page's
 * globals (window.graft, Comlink from an init script, graftMeasureLog).
 */
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as ComlinkApi from 'comlink';
import type { Page } from 'playwright-core';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import type { BackendChoice, BackendReport, ExtractorInit, LiteRtSettings, StageSeconds, WorkerMemory } from '../../shared/farm';
import type { ModelRecord } from '../../shared/records';
import type { Evaluation, History } from '../../shared/training';
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import type { ExtractWorkerApi } from '../../client/farm/extract.worker';
import type { FarmProgress } from '../../client/farm/farm';
import type { ClassifyFrame, Live, LiveFrame, LiveStatus } from '../../client/camera/live';
import type { PageSettings } from '../../client/page/run-planner';
import type { PageClassifier } from '../../client/page/classifier';
import type { Session } from '../../client/page/session';
import type { Publisher } from '../../client/page/publisher';
import { launchChromium } from './chromium';
import { fakeCameraFlags } from './fake-camera';
import { startGraft } from '../graft-server';
import { DIST_CLIENT } from './project';

/** What the page's globals look like to the functions run in it. */
interface MeasureWindow {
  graft: { session: Session; classifier: PageClassifier; live: Live; publisher: Publisher; ready: Promise<void> };
  graftMeasureLog(line: string): Promise<void>;
  Comlink: typeof ComlinkApi;
  measure: {
    session: Session;
    /** The classifier the session's runs leave: classify, Live and the exports. */
    classifier: PageClassifier;
    stateTimes: { state: string; at: number }[];
    /** The last progress of the current run's extraction, its results and its error. */
    extraction: FarmProgress | null;
    results: { history: History; evaluation: Evaluation } | null;
    error: string | null;
    /** Bytes as base64, the cheap way to hand a file back to Node. */
    toBase64(bytes: BlobPart): Promise<string>;
  };
}

export interface GraftPage {
  page: Page;
  /** The server's origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * tsx compiles with esbuild's keepNames, which wraps named inner functions in a `__name` helper that exists only
 * in Node: the page gets a no-op one, so functions compiled here run in page.evaluate.
 */
const NAME_HELPER = 'globalThis.__name ??= (fn) => fn;';

/**
 * Starts Graft on `persistTo`, opens its page in headless Chromium and waits for the page to boot. `camera`: a y4m
 * video the browser's fake camera plays (fake-camera.ts). A `profile` folder and a `port` keep the
 * page's IndexedDB from one run to the next (see cache-dir.ts).
 */
export async function openGraftPage(options: {
  persistTo: string;
  webgpu: boolean;
  log: (line: string) => void;
  camera?: string;
  profile?: string;
  port?: number;
  /** wrangler.toml [vars] to override, e.g. { PUBLISH: 'open' }. */
  vars?: Record<string, string>;
}): Promise<GraftPage> {
  const { log } = options;
  const server = await startGraft({ persistTo: options.persistTo, port: options.port, vars: options.vars });
  let chrome: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    chrome = await launchChromium({ webgpu: options.webgpu, args: options.camera ? fakeCameraFlags(options.camera) : [], profile: options.profile });
    await chrome.context.addInitScript(NAME_HELPER);
    // The same comlink the page bundles, for talking to extraction workers the bench starts itself.
    await chrome.context.addInitScript({ path: require.resolve('comlink/dist/umd/comlink.js') });
    const page = await chrome.context.newPage();
    page.on('pageerror', (error) => log(`  page error: ${error.message}`));
    // A failed request is logged with its URL below: the console only says that one failed.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) log(`  page console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) log(`  page request: ${response.status()} ${response.url()}`);
    });
    await page.exposeFunction('graftMeasureLog', (line: string) => log(line));
    await page.goto(`${server.origin}/`);
    await page.evaluate(() => window.graft.ready);
    const opened = chrome;
    return {
      page,
      origin: server.origin,
      async close() {
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await chrome?.close();
    await server.stop();
    throw error;
  }
}

export interface OpenedSession {
  trainer: BackendReport;
  record: ModelRecord;
  classes: string[];
  images: number;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
}

/**
 * A Session of the page's own class, on a dataset and base model of the server. Not window.graft.session itself:
 * boot() has already started that one's trainer with the settings form's backend, and a trainer keeps the backend
 * it started with, so a fresh Session is the way to train on the backend asked for.
 */
export function openSession(page: Page, args: { datasetId: string; modelId: string; backend: BackendChoice }): Promise<OpenedSession> {
  return page.evaluate(async ({ datasetId, modelId, backend }) => {
    const w = window as unknown as MeasureWindow;
    const SessionClass = w.graft.session.constructor as new () => Session;
    const session = new SessionClass();
    const ClassifierClass = w.graft.classifier.constructor as new (session: Session) => PageClassifier;
    const toBase64 = (bytes: BlobPart) =>
      new Promise<string>((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve((reader.result as string).replace(/^[^,]*,/, ''));
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(new Blob([bytes]));
      });
    const measure: MeasureWindow['measure'] = { session, classifier: new ClassifierClass(session), stateTimes: [], extraction: null, results: null, error: null, toBase64 };
    w.measure = measure;
    const log = (line: string) => void w.graftMeasureLog(line);
    let lastExtractLog = 0;
    session.on('state', (state) => measure.stateTimes.push({ state, at: performance.now() }));
    session.on('results', (results) => (measure.results = results));
    session.on('error', (message) => {
      measure.error = message;
      log(`  page error: ${message}`);
    });
    session.on('info', (message) => log(`  page: ${message}`));
    session.on('extract', (progress) => {
      measure.extraction = progress;
      const { scheduler } = progress;
      const now = performance.now();
      if (now - lastExtractLog < 5000 && scheduler.done < scheduler.total) return;
      lastExtractLog = now;
      const rate = scheduler.imagesPerSecond === null ? '' : `, ${scheduler.imagesPerSecond.toFixed(1)} images/s`;
      log(`  extracting: ${scheduler.done} of ${scheduler.total} images${rate}`);
    });
    session.on('train', (event) => {
      if (event.kind !== 'epoch') return;
      const r = event.record;
      log(
        `  epoch ${r.epoch + 1} (${r.stage}): loss ${r.loss.toFixed(3)}, accuracy ${r.accuracy.toFixed(3)}, ` +
          `val_loss ${r.valLoss.toFixed(3)}, val_accuracy ${r.valAccuracy.toFixed(3)}, ${r.seconds.toFixed(1)} s`,
      );
    });

    const { datasets, models } = await session.catalog();
    if (!datasets.some((d) => d.id === datasetId)) throw new Error(`the server has no dataset '${datasetId}'`);
    const record = models.find((m) => m.id === modelId);
    if (!record) throw new Error(`the server has no base model '${modelId}' (it has: ${models.map((m) => m.id).join(', ') || 'none'})`);
    const dataset = await session.chooseDataset(datasetId);
    const trainer = await session.chooseModel(record, backend);
    return {
      trainer,
      record,
      classes: dataset.classes,
      images: dataset.images.length,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated,
    };
  }, args);
}

export interface TrainRun {
  /** 'done', or the state training ended in. */
  state: string;
  error: string | null;
  history: History | null;
  evaluation: Evaluation | null;
  /** The extraction phase of the run (null when every feature was already cached). */
  extraction: {
    seconds: number;
    done: number;
    total: number;
    failed: { file: string; reason: string }[];
    backends: BackendReport[];
  } | null;
}

/** session.start(settings): extraction of what the cache lacks, then training; resolves when it ends. */
export function trainRun(page: Page, settings: PageSettings): Promise<TrainRun> {
  return page.evaluate(async (settings) => {
    const measure = (window as unknown as MeasureWindow).measure;
    const { session } = measure;
    // Assigned as a whole: TypeScript would otherwise keep these narrowed to null across the await.
    Object.assign(measure, { stateTimes: [], extraction: null, results: null, error: null });
    await session.start(settings);
    const at = (state: string) => measure.stateTimes.find((t) => t.state === state)?.at;
    const started = at('extracting');
    const ended = at('training') ?? at('error');
    const progress = measure.extraction;
    const fileOf = new Map(session.dataset!.images.map((i) => [i.imageId, `${i.class}/${i.file}`]));
    return {
      state: session.state,
      error: measure.error,
      history: measure.results?.history ?? null,
      evaluation: measure.results?.evaluation ?? null,
      extraction:
        progress && started !== undefined && ended !== undefined
          ? {
              seconds: (ended - started) / 1000,
              done: progress.scheduler.done,
              total: progress.scheduler.total,
              failed: progress.scheduler.failed.map((f) => ({ file: fileOf.get(f.key) ?? f.key, reason: f.reasons.join('; ') })),
              backends: progress.workers.flatMap((w) => (w.report ? [w.report] : [])),
            }
          : null,
    };
  }, settings);
}

/** The trained classifier as classifier.exportModel('float32') gives it (model.json text and weights.bin bytes). */
export async function exportFloat32(page: Page): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
  const { modelJson, weightsBase64 } = await page.evaluate(async () => {
    const { measure } = window as unknown as MeasureWindow;
    const { modelJson, weightsBin } = await measure.classifier.exportModel('float32');
    return { modelJson, weightsBase64: await measure.toBase64(weightsBin) };
  });
  const bytes = Buffer.from(weightsBase64, 'base64');
  return { modelJson, weightsBin: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

/** The page's TFLite export of `kind` (built and checked in the page); the zip's bytes when the check passed. */
export async function exportTflite(
  page: Page,
  kind: TfliteKind,
): Promise<{
  zip: Uint8Array | null;
  /** model.tflite and its input and output, as a publication holds them. */
  file: Uint8Array;
  signature: TfliteSignature;
  failure: string | null;
  fileBytes: number;
  msPerImage: number | null;
  tfjsMsPerImage: number;
}> {
  const { zipBase64, fileBase64, ...rest } = await page.evaluate(async (kind) => {
    const { measure } = window as unknown as MeasureWindow;
    const result = await measure.classifier.exportTflite(kind);
    return {
      zipBase64: result.zip ? await measure.toBase64(result.zip as Uint8Array<ArrayBuffer>) : null,
      fileBase64: await measure.toBase64(result.file as Uint8Array<ArrayBuffer>),
      signature: result.signature,
      failure: result.failure,
      fileBytes: result.fileBytes,
      msPerImage: result.check?.msPerImage ?? null,
      tfjsMsPerImage: result.tfjsMsPerImage,
    };
  }, kind);
  const bytesOf = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));
  return { zip: zipBase64 === null ? null : bytesOf(zipBase64), file: bytesOf(fileBase64), ...rest };
}

export interface PublishRun {
  id: string;
  url: string;
  /** Bytes of its files, as the server counted them. */
  bytes: number;
  /** The kind of file its classify page runs. */
  runs: TfliteKind;
  /** Requests to the API the publish made: the publications API's, and any dataset shard it read. */
  requests: number;
}

/**
 * Publishes the measure session's classifier as a visitor does from the page: the page's own Publisher class
 * (window.graft.publisher's) builds and checks both TFLite files, makes the card and uploads, without a token.
 */
export function publishRun(page: Page, args: { name: string; description: string }): Promise<PublishRun> {
  return page.evaluate(async ({ name, description }) => {
    const w = window as unknown as MeasureWindow;
    const PublisherClass = w.graft.publisher.constructor as new (source: PageClassifier) => Publisher;
    const { session, classifier } = w.measure;
    const storageRequests = session.requests;
    const published = await new PublisherClass(classifier).publish({ name, description, examples: false, adminToken: null });
    return { id: published.id, url: published.url, bytes: published.bytes, runs: published.runs, requests: published.requests + session.requests - storageRequests };
  }, args);
}

export interface ExtractionRun {
  seconds: number;
  /** Seconds until every worker had started its backend and loaded the base. */
  startSeconds: number;
  images: number;
  failed: number;
  /** Worker seconds in each pipeline stage, summed over workers. */
  stageSeconds: StageSeconds;
  backends: BackendReport[];
  /** Each worker's memory after its first and after its last batch. */
  memory: { worker: number; first: WorkerMemory; last: WorkerMemory; batches: number }[];
  pageHeapBytes: number | null;
}

/** One extraction of the whole dataset with an empty feature cache: session.extract() as start() runs it. */
export function extractionRun(page: Page, settings: PageSettings): Promise<ExtractionRun> {
  return page.evaluate(async (settings) => {
    const { session } = (window as unknown as MeasureWindow).measure;
    await session.clearCache();
    const plan = await session.plan(settings);
    const started = performance.now();
    let allStarted: number | null = null;
    let active = true;
    session.on('extract', (p) => {
      if (active && allStarted === null && p.workers.length > 0 && p.workers.every((w) => w.report !== null)) allStarted = performance.now();
    });
    const progress = await session.extract(plan, new AbortController().signal);
    const ended = performance.now();
    active = false;
    if (!progress) throw new Error('nothing was extracted: the feature cache was not empty');
    const log = session.farm?.memoryLog ?? [];
    const workers = [...new Set(log.map((m) => m.worker))];
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    const plain = (m: WorkerMemory) => ({ numTensors: m.numTensors, numBytes: m.numBytes, jsHeapBytes: m.jsHeapBytes });
    return {
      seconds: (ended - started) / 1000,
      startSeconds: ((allStarted ?? ended) - started) / 1000,
      images: progress.scheduler.done,
      failed: progress.scheduler.failed.length,
      stageSeconds: progress.stageSeconds,
      backends: progress.workers.flatMap((w) => (w.report ? [w.report] : [])),
      memory: workers.map((worker) => {
        const own = log.filter((m) => m.worker === worker);
        return { worker, first: plain(own[0]), last: plain(own[own.length - 1]), batches: own.length };
      }),
      pageHeapBytes: heap?.usedJSHeapSize ?? null,
    };
  }, settings);
}

export interface PredictRun {
  backends: BackendReport[];
  /** Timed seconds of each worker (after its warm-up batch), running the farm's compiled base. */
  seconds: number[];
  /** The same with the layers model's predict (the path the compiled base replaced), in the same workers just before. */
  layersSeconds: number[];
  /** The same on the workers' LiteRT.js pass (the farm's settings), or null where LiteRT did not start. */
  liteRtSeconds: number[] | null;
  /** Each asked LiteRT variant (batch, threads), timed the same way in the same workers. */
  variants: { batch: number; threads: number; seconds: number[] }[];
  before: WorkerMemory[];
  after: WorkerMemory[];
}

/** URL path of the built extraction worker (the farm's `new URL('./extract.worker.ts', import.meta.url)`). */
export async function extractWorkerPath(): Promise<string> {
  const names = (await readdir(join(DIST_CLIENT, 'assets'))).filter((f) => /^extract\.worker-.*\.js$/.test(f));
  if (names.length !== 1) throw new Error(`expected one extract.worker-*.js in dist/client/assets, found ${names.length}`);
  return `/assets/${names[0]}`;
}

/**
 * Forward passes alone: `workers` extraction workers of the farm's own build, started as the farm starts them
 * (threads shared out the same way, LiteRT.js with `liteRt` settings), each running benchPredict(images, batch)
 * at the same time: first with the layers model, then with the compiled base, then on LiteRT.js (and each of
 * `variants`: other LiteRT batches or thread counts, for choosing the farm's).
 */
export function predictRun(
  page: Page,
  args: {
    workerPath: string;
    workers: number;
    images: number;
    batch: number;
    settings: PageSettings;
    liteRt: LiteRtSettings;
    variants?: { batch: number; threads: number }[];
    layers?: boolean;
    /** Times each pass this many times in turn (compiled, LiteRT, variants, compiled, ...), keeping each pass's fastest round. */
    rounds?: number;
  },
): Promise<PredictRun> {
  return page.evaluate(async ({ workerPath, workers, images, batch, settings, augmentation, liteRt, variants, layers, rounds }) => {
    const w = window as unknown as MeasureWindow;
    const record = w.measure.session.model!;
    // The base's files from the API, as the page downloads them for its farm.
    const base = `/api/models/${encodeURIComponent(record.id)}/`;
    const modelJson = (await (await fetch(`${base}model.json`)).json()) as ExtractorInit['artifacts']['modelJson'];
    const parts = await Promise.all(
      modelJson.weightsManifest.flatMap((g) => g.paths).map(async (path) => new Uint8Array(await (await fetch(base + path)).arrayBuffer())),
    );
    const weightData = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      weightData.set(part, offset);
      offset += part.length;
    }
    const init: ExtractorInit = {
      backend: settings.backend,
      threads: Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / workers)),
      artifacts: { modelJson, weightData: weightData.buffer },
      record,
      inputSize: settings.inputSize,
      fineTuneAt: settings.fineTuneEpochs > 0 ? settings.fineTuneAt : null,
      datasetId: 'bench',
      cutCodec: 'float16',
      augmentation,
      engine: 'auto',
      liteRt,
    };
    const started = Array.from({ length: workers }, (_, i) => new Worker(workerPath, { type: 'module', name: `graft-bench-${i}` }));
    try {
      const remotes = started.map((worker) => w.Comlink.wrap<ExtractWorkerApi>(worker));
      const backends = await Promise.all(remotes.map((r) => r.init(init)));
      const before = await Promise.all(remotes.map((r) => r.memory()));
      const layersSeconds = layers === false ? [] : await Promise.all(remotes.map((r) => r.benchPredict(images, batch, 'layers')));
      const onLiteRt = backends.every((b) => b.liteRt);
      /** Of two rounds' worker seconds, the one whose slowest worker was faster. */
      const faster = (a: number[] | null, b: number[]) => (a && Math.max(...a) <= Math.max(...b) ? a : b);
      let seconds: number[] | null = null;
      let liteRtSeconds: number[] | null = null;
      const timed = (onLiteRt ? variants : []).map((variant) => ({ ...variant, seconds: null as number[] | null }));
      for (let round = 0; round < rounds; round++) {
        seconds = faster(seconds, await Promise.all(remotes.map((r) => r.benchPredict(images, batch, 'compiled'))));
        if (onLiteRt) liteRtSeconds = faster(liteRtSeconds, await Promise.all(remotes.map((r) => r.benchPredict(images, batch, 'litert'))));
        for (const variant of timed) {
          variant.seconds = faster(variant.seconds, await Promise.all(remotes.map((r) => r.benchPredict(images, batch, 'litert', variant))));
        }
      }
      const after = await Promise.all(remotes.map((r) => r.memory()));
      return { backends, seconds: seconds!, layersSeconds, liteRtSeconds, variants: timed.map((v) => ({ ...v, seconds: v.seconds! })), before, after };
    } finally {
      for (const worker of started) worker.terminate();
    }
  }, { ...args, augmentation: DEFAULT_AUGMENTATION, variants: args.variants ?? [], layers: args.layers ?? true, rounds: args.rounds ?? 1 });
}

export interface LiveRun {
  /** Frames classified in the timed window (after the warm-up frames). */
  frames: number;
  seconds: number;
  /** The frame rate the Live view showed last. */
  shownFps: number | null;
  /** The worker's own milliseconds per frame (reading its pixels to the probabilities), mean over the timed frames. */
  msPerFrame: number | null;
  /** Which engine classified the frames, in the page's words. */
  engine: string;
}

/**
 * Live on the fake camera with the measure session's trained classifier: the page's own Live class (one frame in
 * flight, classified by the session's engine: LiteRT.js once the classifier's file is ready, which this waits for),
 * timed for `seconds` after `warmUpFrames` frames.
 */
export function liveRun(page: Page, args: { seconds: number; warmUpFrames: number }): Promise<LiveRun> {
  return page.evaluate(async ({ seconds, warmUpFrames }) => {
    const w = window as unknown as MeasureWindow;
    const LiveClass = w.graft.live.constructor as new (video: HTMLVideoElement, classify: ClassifyFrame) => Live;
    const video = document.createElement('video');
    video.muted = true;
    document.body.appendChild(video);
    const { classifier } = w.measure;
    await classifier.engineReady;
    const live = new LiveClass(video, (frame) => classifier.classifyFrame(frame));
    const times: number[] = [];
    const workerMs: number[] = [];
    let shownFps: number | null = null;
    let stopped: string | null = null;
    live.addEventListener('frame', (event) => {
      times.push(performance.now());
      const { fps, ms } = (event as CustomEvent<LiveFrame>).detail;
      shownFps = fps;
      workerMs.push(ms);
    });
    live.addEventListener('state', (event) => {
      const { state, message } = (event as CustomEvent<LiveStatus>).detail;
      if (state === 'off') stopped = message ?? 'stopped';
    });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await live.open();
      while (times.length < warmUpFrames && stopped === null) await sleep(100);
      const from = times.length;
      const started = performance.now();
      await sleep(seconds * 1000);
      if (stopped !== null) throw new Error(`Live stopped: ${stopped}`);
      const timed = workerMs.slice(from);
      const msPerFrame = timed.length > 0 ? timed.reduce((a, b) => a + b, 0) / timed.length : null;
      return { frames: times.length - from, seconds: (performance.now() - started) / 1000, shownFps, msPerFrame, engine: classifier.engine.text };
    } finally {
      live.close();
      video.remove();
    }
  }, args);
}
