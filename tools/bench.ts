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
import { join, resolve } from 'node:path';
import type { PageSettings } from '../client/page/run-planner';
import { DEFAULT_SETTINGS } from '../client/trainer/settings';
import { openGraftPage } from './measure/graft-page/open';
import { openSession } from './measure/graft-page/session';
import { runCommand } from './measure/cli';
import { REPO_ROOT, ensurePageBuilt, loadProjectEnv, logLine, withTempDir } from './measure/project';
import { linkSubset, seedState } from './measure/seed-state';
import { USAGE, parseBenchArgs, type BenchOptions } from './bench/options';
import { measureFarm } from './bench/farm';
import { measureFineTuneInNode, measureTraining } from './bench/training';
import { measureClassifier, writeCameraVideo } from './bench/classifier';
import { reportBench } from './bench/report';

const SHARED = resolve(REPO_ROOT, '..', 'shared');
const FLOWERS = join(SHARED, 'datasets', 'flowers');
const MODEL_DIR = join(SHARED, 'models', 'mobilenet_v2_0.35_224_no_top');

async function bench(options: BenchOptions, root: string): Promise<void> {
  const log = logLine;
  await ensurePageBuilt(log);
  const subset = await linkSubset(join(root, 'flowers'), FLOWERS, options.perClass);
  log(`seeding ${options.perClass} flowers per class and the model into a temp state`);
  const seeded = await seedState(join(root, 'state'), subset, MODEL_DIR, log);
  const camera = await writeCameraVideo(join(root, 'camera.y4m'), subset);

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
    const farm = await measureFarm(graft.page, settings, options.predictImages);
    const training = await measureTraining(graft.page, session, settings, MODEL_DIR);
    const classifier = await measureClassifier(graft, { session, training: training.training, subset, liveSeconds: options.liveSeconds });
    browser = { session, settings, farm, training, classifier };
  } finally {
    await graft.close();
  }
  const { node, trainImages } = await measureFineTuneInNode(subset, browser.session, browser.settings, MODEL_DIR);
  reportBench({ ...browser, predictImages: options.predictImages, node, trainImages });
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
