/**
 * A farm worker: decodes, resizes, augments and runs the base model on the images it is handed, and writes
 * the features straight to IndexedDB, one transaction per batch (a killed tab leaves only whole batches).
 * Nothing but small bookkeeping goes back to the page. Exposed through comlink; initialised lazily, once.
 * The forward pass runs on LiteRT.js where it loads, compiles and matches the tfjs compiled base on a probe
 * image (litert-base.ts), else on tfjs; a LiteRT failure during a batch hands that batch and the rest to tfjs.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendReport, ExtractItem, ExtractorInit, ExtractResult, StageSeconds, WorkerMemory } from '../../shared/farm';
import { encodeTensor } from '../cache/codec';
import { baseModelKeys } from '../cache/keys';
import { putBatch, type NewFeature } from '../cache/feature-store';
import { augment, augmentParams } from '../engine/augment';
import { selectBackend } from '../engine/backend';
import { decodeImage } from '../engine/decode';
import { FoldError } from '../engine/fold';
import { LiteRtError } from '../engine/litert';
import { Extractor, type BaseForward, type BaseRunner, type ExtractedImage } from './extractor';
import { LiteRtBase, probeImage, startLiteRtBase } from './litert-base';
import { normalise, resizeToSquare } from '../engine/preprocess';

interface State {
  init: ExtractorInit;
  report: BackendReport;
  extractor: Extractor;
  /** The pass extract() uses: LiteRT's after its self-check, else the extractor's own (tfjs). */
  forward: BaseForward;
  pooledKey: string;
  cutKey: string | null;
}

let state: Promise<State> | null = null;

function loadExtractor(init: ExtractorInit, runner: BaseRunner): Promise<Extractor> {
  const { modelJson, weightData } = init.artifacts;
  return Extractor.load(
    {
      modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData,
    },
    { bottleneck: init.record.bottleneck, inputSize: init.inputSize, fineTuneAt: init.fineTuneAt },
    runner,
  );
}

/** The tfjs compiled base, or the layers model when a layer cannot be folded (then LiteRT cannot run it either). */
async function loadOwnExtractor(init: ExtractorInit, notes: string[]): Promise<Extractor> {
  try {
    return await loadExtractor(init, 'compiled');
  } catch (error) {
    if (!(error instanceof FoldError)) throw error;
    notes.push(`the base cannot be compiled (${error.message}), so neither LiteRT.js nor the compiled base runs it: TF.js runs the layers model`);
    return loadExtractor(init, 'layers');
  }
}

/** The normalised probe image of the self-check. */
function probe(init: ExtractorInit): tf.Tensor4D {
  return tf.tidy(() => normalise(probeImage(init.inputSize), init.record.preprocessing) as tf.Tensor4D);
}

async function start(init: ExtractorInit): Promise<State> {
  const report = await selectBackend(init.backend, init.threads);
  const extractor = await loadOwnExtractor(init, report.notes);
  let forward: BaseForward = extractor.own;
  if (init.engine === 'auto' && extractor.graph && report.backend !== 'cpu') {
    const input = probe(init);
    const outputNames = [...extractor.cut.map((c) => `'${c.layer}' activations`), 'pooled features'];
    const webGpu = init.backend === 'auto' || init.backend === 'webgpu';
    const liteRt = await startLiteRtBase(extractor.graph, extractor.own, { settings: init.liteRt, webGpu, probe: input, outputNames }, report.notes).finally(() => input.dispose());
    if (liteRt) {
      forward = liteRt.forward;
      report.liteRt = liteRt.report;
    }
  }
  return { init, report, extractor, forward, ...baseModelKeys(init.record, init.inputSize, extractor.cutLayer) };
}

/** The batch through the worker's pass; when LiteRT fails on it, tfjs runs it and every later batch, and the report says why. */
async function runBase(s: State, input: tf.Tensor4D): Promise<{ features: ExtractedImage[]; changed: boolean }> {
  try {
    return { features: await s.extractor.run(input, s.forward), changed: false };
  } catch (error) {
    if (!(error instanceof LiteRtError) || s.forward === s.extractor.own) throw error;
    (s.forward as LiteRtBase).dispose();
    s.forward = s.extractor.own;
    const { liteRt: _gone, ...onTfjs } = s.report;
    s.report = { ...onTfjs, notes: [...s.report.notes, error.message] };
    return { features: await s.extractor.run(input, s.forward), changed: true };
  }
}

/** Decoded and resized pixels (0..255) of the items that decode; the others are reported. */
async function decodeAll(items: ExtractItem[], size: number, failed: ExtractResult['failed']) {
  const decoded: { item: ExtractItem; image: tf.Tensor3D }[] = [];
  for (const item of items) {
    try {
      const pixels = await decodeImage(item.bytes, size);
      decoded.push({ item, image: resizeToSquare(pixels, size) });
    } catch (error) {
      failed.push({ key: item.imageId, reason: (error as Error).message });
    }
  }
  return decoded;
}

const api = {
  /** Starts the backend and loads the model; later calls return the first result. */
  init(init: ExtractorInit): Promise<BackendReport> {
    state ??= start(init);
    return state.then((s) => s.report);
  },

  async extract(items: ExtractItem[]): Promise<ExtractResult> {
    if (!state) throw new Error('extract() before init()');
    const s = await state;
    const size = s.init.inputSize;
    const failed: ExtractResult['failed'] = [];
    const seconds: StageSeconds = { decode: 0, forward: 0, encode: 0, write: 0 };
    let mark = performance.now();
    /** Adds the time since the last mark to `stage`. */
    const lap = (stage: keyof StageSeconds) => {
      const now = performance.now();
      seconds[stage] += (now - mark) / 1000;
      mark = now;
    };
    const decoded = await decodeAll(items, size, failed);
    lap('decode');
    if (decoded.length === 0) return { done: [], failed, forwardPasses: 0, seconds, memory: api.memory() };
    const records: NewFeature[] = [];
    let passes = 0;
    let engineChanged = false;
    const views = [...new Set(decoded.flatMap((d) => d.item.views))].sort((a, b) => a - b);
    const { augmentation } = s.init;
    const batch = tf.stack(decoded.map((d) => d.image)) as tf.Tensor4D;
    tf.dispose(decoded.map((d) => d.image));
    try {
      for (const view of views) {
        const members = decoded.map((d, i) => ({ d, i })).filter(({ d }) => d.item.views.includes(view));
        if (members.length === 0) continue;
        const input = tf.tidy(() => {
          const picked = members.length === decoded.length ? batch : tf.gather(batch, members.map((m) => m.i));
          const viewed =
            view === 0
              ? picked
              : augment(picked as tf.Tensor4D, members.map((m) => augmentParams(m.d.item.imageId, view, augmentation)), augmentation);
          return normalise(viewed, s.init.record.preprocessing) as tf.Tensor4D;
        });
        const { features, changed } = await runBase(s, input).finally(() => input.dispose());
        engineChanged ||= changed;
        lap('forward');
        passes += members.length;
        members.forEach(({ d }, j) => {
          const common = { datasetId: s.init.datasetId, imageId: d.item.imageId, view, augmentation: view === 0 ? null : augmentation };
          records.push({
            ...common,
            modelKey: s.pooledKey,
            tensors: [encodeTensor(features[j].pooled, [features[j].pooled.length], 'float32')],
          });
          if (s.cutKey) {
            records.push({
              ...common,
              modelKey: s.cutKey,
              tensors: features[j].cut.map((values, k) => encodeTensor(values, s.extractor.cut[k].shape, s.init.cutCodec)),
            });
          }
        });
        lap('encode');
      }
    } finally {
      batch.dispose();
    }
    if (records.length > 0) await putBatch(records);
    lap('write');
    return { done: decoded.map((d) => d.item.imageId), failed, forwardPasses: passes, seconds, memory: api.memory(), ...(engineChanged ? { report: s.report } : {}) };
  },

  memory(): WorkerMemory {
    const memory = tf.memory();
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return { numTensors: memory.numTensors, numBytes: memory.numBytes, jsHeapBytes: heap?.usedJSHeapSize ?? null };
  },

  /**
   * For `npm run bench`: seconds the base takes for `images` forward passes (outputs read back, as extract()
   * does) on random normalised input in batches of `batch`, after one warm-up batch. No decoding, no
   * augmentation, no cache writes: the ceiling of extract()'s rate. `runner` 'compiled' times the tfjs compiled
   * base; 'layers' loads the layers model beside it for the time of the call (the path the compiled base
   * replaced); 'litert' the worker's LiteRT pass, or with `liteRt` a LiteRT pass compiled for the call with that
   * batch and thread count (the build is the one the worker loaded).
   */
  async benchPredict(images: number, batch: number, runner: BaseRunner | 'litert' = 'compiled', liteRt?: { batch: number; threads: number }): Promise<number> {
    if (!state) throw new Error('benchPredict() before init()');
    const s = await state;
    const size = s.init.inputSize;
    const extractor = runner === 'layers' ? await loadExtractor(s.init, runner) : s.extractor;
    let forward: BaseForward = extractor.own;
    if (runner === 'litert') {
      if (!s.report.liteRt || !extractor.graph) throw new Error(`LiteRT.js does not run in this worker (${s.report.notes.join('; ')})`);
      forward = liteRt
        ? await LiteRtBase.compile(extractor.graph, { accelerator: s.report.liteRt.accelerator, batch: liteRt.batch, threads: s.report.liteRt.build === 'threaded' ? liteRt.threads : undefined })
        : s.forward;
    }
    const input = tf.tidy(
      () => normalise(tf.randomUniform([batch, size, size, 3], 0, 255), s.init.record.preprocessing) as tf.Tensor4D,
    );
    try {
      await extractor.run(input, forward);
      const started = performance.now();
      for (let done = 0; done < images; done += batch) {
        const part = images - done < batch ? tf.slice(input, 0, images - done) : input;
        await extractor.run(part, forward).finally(() => part !== input && part.dispose());
      }
      return (performance.now() - started) / 1000;
    } finally {
      input.dispose();
      if (extractor !== s.extractor) extractor.dispose();
      if (forward !== s.forward && forward !== extractor.own) forward.dispose();
    }
  },
};

export type ExtractWorkerApi = typeof api;
Comlink.expose(api);
