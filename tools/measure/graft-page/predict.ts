/** Forward passes alone, timed in extraction workers the page starts as the farm does (the pipeline's ceiling). */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_AUGMENTATION } from '../../../shared/augmentation';
import type { BackendReport, ExtractorInit, LiteRtSettings, WorkerMemory } from '../../../shared/farm';
import type { ExtractWorkerApi } from '../../../client/farm/extract.worker';
import type { PageSettings } from '../../../client/page/run-planner';
import { DIST_CLIENT } from '../project';
import type { MeasureWindow } from './measure-window';

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
