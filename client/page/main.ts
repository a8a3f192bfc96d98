/**
 * The page's entry and composition root: mounts the views, creates the session and connects the two; your own
 * classes and Live have controllers of their own (local-classes-controller.ts, live-controller.ts). Views only
 * render and report intent; the session does the work (in workers). `window.graft` exposes the session to the
 * browser tests and to curious visitors' consoles.
 */
import './styles.css';
import type { DatasetRecord, ModelRecord } from '../../shared/records';
import type { EpochRecord, History } from '../../shared/training';
import type { BatchProgress, TfliteKind } from '../../shared/trainer-messages';
import { DEFAULT_SETTINGS } from '../trainer/settings';
import { mountAugmentationPreview } from './views/augmentation-preview';
import { mountBanner } from './views/banner';
import { mountCachePanel } from './views/cache-panel';
import { mountClassify } from './views/classify';
import { mountControls } from './views/controls';
import { mountCurves } from './views/curves';
import { mountDatasetPicker } from './views/dataset-picker';
import { mountExport, type ExportKind } from './views/export-panel';
import { mountTflite } from './views/tflite-panel';
import { mountExtractionProgress } from './views/extraction-progress';
import { mountModelPicker } from './views/model-picker';
import { mountModelSummary } from './views/model-summary';
import { mountResults, type ResultsInput } from './views/results';
import { mountRuntimeStatus } from './views/runtime-status';
import { mountSampleGrid } from './views/sample-grid';
import { mountSettingsForm, type FormSettings } from './views/settings-form';
import { mountTrainingProgress } from './views/training-progress';
import { isDroppedFolderId, isOnDeviceId, type DatasetChoice } from './dataset-source';
import type { Live } from './live';
import { connectLive } from './live-controller';
import { connectLocalClasses } from './local-classes-controller';
import { saveFile } from './save-file';
import { parseModelKey } from '../cache/keys';
import { nextTask } from '../engine/next-task';
import { plainMessage, Session, type PageSettings } from './session';

declare global {
  interface Window {
    graft: { session: Session; live: Live; ready: Promise<void> };
  }
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;
const SAMPLES_PER_CLASS = 4;

const session = new Session();
const banner = mountBanner(byId('banner'));
const runtime = mountRuntimeStatus(byId('runtime-status'));
const defaults: FormSettings = {
  ...DEFAULT_SETTINGS,
  workers: Math.min(8, navigator.hardwareConcurrency || 2),
  backend: 'auto',
  inputSize: 224,
};
let models: ModelRecord[] = [];
let datasets: DatasetRecord[] = [];

const fail = (error: unknown) => banner.showError(plainMessage(error));
/** The form's settings; `check` marks and focuses what is wrong (when the visitor asked for something). */
const settings = (check = false): PageSettings | null => {
  return check ? settingsForm.getSettings() : settingsForm.readSettings();
};

const datasetPicker = mountDatasetPicker(byId('dataset-picker'), {
  onSelectDataset: (id) => void chooseData(() => session.chooseDataset(id), id),
  onDropFolder: (files) => void chooseData(() => session.chooseFolder(files), null),
});
const localClasses = connectLocalClasses(byId('local-dataset'), session, chooseData);

const modelPicker = mountModelPicker(byId('model-picker'), { onSelectModel: (id) => void chooseModel(id) });
const settingsForm = mountSettingsForm(byId('settings-form'), defaults, { onChange: () => void refreshSummary() });
const sampleGrid = mountSampleGrid(byId('sample-grid'));
const augmentationPreview = mountAugmentationPreview(byId('augmentation-preview'));
const modelSummary = mountModelSummary(byId('model-summary'));
const controls = mountControls(byId('controls'), {
  onStart: () =>
    void localClasses.rechoose().then(() => {
      const s = settings(true);
      if (s && session.dataset) void session.start(s);
    }),
  onPause: () => session.pause(),
  onResume: () => void session.resume(),
  onCancel: () => session.cancel(),
});
const extraction = mountExtractionProgress(byId('extraction-progress'));
const training = mountTrainingProgress(byId('training-progress'));
const curves = mountCurves(byId('curves'));
const thumbnails = new Map<string, Promise<string>>();

/**
 * One object URL per task: a gallery page's or the sample grid's images arrive together (from one shard), and
 * two dozen URLs made at once (each a round trip to the browser process) are a long task on a busy machine.
 */
async function objectUrlInOwnTask(blob: Blob): Promise<string> {
  await nextTask();
  return URL.createObjectURL(blob);
}
const results = mountResults(byId('results'), {
  fixes: localClasses.fixes,
  thumbnail: (imageId) => {
    let url = thumbnails.get(imageId);
    if (!url) {
      const image = session.dataset?.images.find((i) => i.imageId === imageId);
      url = image ? image.bytes().then(objectUrlInOwnTask) : Promise.reject(new Error('image not in this dataset'));
      thumbnails.set(imageId, url);
    }
    return url;
  },
});
const classify = mountClassify(byId('classify'), {
  onClassify: (file) =>
    void session
      .classify(file)
      .then((top) => classify.update(top.map((c) => ({ label: c.className, probability: c.probability }))))
      .catch((e) => classify.showError(plainMessage(e))),
});
const liveController = connectLive(byId('live'), session);
/** Classify and Live follow the classifier: on once one exists, off (Live's camera too) when it is gone. */
function classifierReady(ready: boolean, reason = 'Train a classifier first.'): void {
  classify.setEnabled(ready, reason);
  liveController.setClassifier(ready, reason);
}
const exportPanel = mountExport(byId('export'), { onExport: (kind) => void download(kind) });
const tflitePanel = mountTflite(byId('export-tflite'), { onBuild: (kind) => void buildTflite(kind) });
const cachePanel = mountCachePanel(byId('coming-back'), {
  onResume: (runId) => void restoreRun(runId, (id) => session.resumeRun(id)),
  onTrainAgain: (runId) => void restoreRun(runId, (id) => session.trainAgain(id)),
  onOpenResults: (runId) => void openResults(runId),
  onClear: () => void session.clearCache().then(forgetClassifier).then(refreshCache).catch(fail),
});

function updateStartBlocked(): void {
  controls.setStartBlocked(
    !session.dataset ? 'Choose a dataset first.' : !session.model ? 'Choose a base model first.' : null,
  );
}

/** A choice of data or model: clears old messages, refreshes what depends on it, reports failures in words. */
async function choose(action: () => Promise<void>): Promise<void> {
  banner.clear();
  try {
    await action();
    await refreshPreview();
    await refreshSummary();
  } catch (error) {
    fail(error);
  } finally {
    updateStartBlocked();
  }
}

let sampleUrls: string[] = [];

function chooseData(load: () => Promise<DatasetChoice>, id: string | null): Promise<void> {
  return choose(async () => {
    const dataset = await load();
    datasetPicker.update(datasets, id);
    updateStartBlocked();
    if (dataset.skipped.length > 0) {
      banner.showInfo(`${dataset.skipped.length} file(s) skipped: ${dataset.skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join(', ')}`);
    }
    const samples = dataset.classes.flatMap((name) => dataset.images.filter((i) => i.class === name).slice(0, SAMPLES_PER_CLASS));
    // A sample whose bytes cannot be had is left out here; the run reports it with the reason.
    const fetched = await Promise.allSettled(samples.map(async (i) => ({ url: await objectUrlInOwnTask(await i.bytes()), label: i.class })));
    const shown = fetched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    sampleUrls.forEach((url) => URL.revokeObjectURL(url));
    sampleUrls = shown.map((s) => s.url);
    sampleGrid.update(shown);
    // An image id is its content's hash: a thumbnail of an image the new choice still has stays good.
    const kept = new Set(dataset.images.map((i) => i.imageId));
    for (const [imageId, url] of thumbnails) {
      if (kept.has(imageId)) continue;
      void url.then(URL.revokeObjectURL, () => {});
      thumbnails.delete(imageId);
    }
    localClasses.refresh();
  });
}

function chooseModel(id: string): Promise<void> {
  const record = models.find((m) => m.id === id);
  if (!record) return Promise.resolve();
  return choose(async () => {
    modelPicker.update(models, id);
    const report = await session.chooseModel(record, settingsForm.readSettings()?.backend ?? 'auto');
    runtime.update({ crossOriginIsolated, backend: report, workers: settingsForm.readSettings()?.workers });
  });
}

async function refreshSummary(): Promise<void> {
  const s = settings();
  if (!s || !session.model) return;
  try {
    const summary = await session.describe(s);
    modelSummary.update(summary, { fineTuneEpochs: s.fineTuneEpochs });
    settingsForm.setLayerNames(summary.layers.map((l) => l.name));
    // Said before Start: the storage the run needs, and how it is cut down when there is less.
    controls.setNote(session.dataset ? (await session.storagePlan(s)).message : null);
  } catch (error) {
    fail(error);
  }
}

async function refreshPreview(): Promise<void> {
  const s = settings();
  if (!s || !session.model || !session.dataset) return;
  const [original, ...views] = await session.augmentationPreview(s);
  augmentationPreview.update({ original, views, label: session.dataset.images[0].class });
}

async function download(kind: ExportKind): Promise<void> {
  exportPanel.setBusy(kind);
  try {
    const { modelJson, weightsBin } = await session.exportModel(kind);
    saveFile(new Blob([modelJson], { type: 'application/json' }), 'model.json');
    saveFile(new Blob([weightsBin], { type: 'application/octet-stream' }), 'weights.bin');
  } catch (error) {
    fail(error);
  } finally {
    exportPanel.setBusy(null);
  }
}

async function buildTflite(kind: TfliteKind): Promise<void> {
  tflitePanel.setBusy(kind);
  try {
    tflitePanel.show(await session.exportTflite(kind));
  } catch (error) {
    fail(error);
  } finally {
    tflitePanel.setBusy(null);
  }
}

/** Shows a saved run's dataset, model and settings. */
async function showRun(runId: string): Promise<void> {
  const run = await session.loadRun(runId);
  if (run) {
    settingsForm.setValues(run.settings);
    modelPicker.update(models, run.modelId);
    // A stored dataset comes back with its samples; a dropped folder must be dropped again (the session says so).
    if (!isDroppedFolderId(run.datasetId) && session.dataset?.id !== run.datasetId) {
      await chooseData(() => session.chooseDataset(run.datasetId), run.datasetId);
    }
  }
}

/** Shows the run's dataset, model and settings, then continues it (resume) or starts it over (train again). */
async function restoreRun(runId: string, go: (runId: string) => Promise<void>): Promise<void> {
  await showRun(runId);
  const started = go(runId);
  // The dataset and model are chosen before training starts; show them as soon as they are.
  void started.catch(fail);
  await new Promise((resolve) => session.on('state', resolve));
  updateStartBlocked();
  await started;
}

/** A finished run's curves and results, and its classifier for classify and export. */
async function openResults(runId: string): Promise<void> {
  await showRun(runId);
  try {
    const saved = await session.openResults(runId);
    classifierReady(true);
    exportPanel.update({ classes: saved.classes, inputSize: saved.inputSize, preprocessing: session.model!.preprocessing });
    tflitePanel.setReady(true, session.model!.preprocessing);
  } catch (error) {
    fail(error);
  }
}

/** After "Delete everything": no classifier is left to classify with or export. */
function forgetClassifier(): void {
  classify.clear();
  classifierReady(false);
  exportPanel.update(null);
  tflitePanel.setReady(false);
}

/** "Coming back": per dataset and model, the images cached (pooled features) and the bytes of everything cached. */
async function refreshCache(): Promise<void> {
  const overview = await session.cacheOverview();
  const modelName = (id: string) => models.find((m) => m.id === id)?.name ?? id;
  const entries = new Map<string, { datasetName: string; modelName: string; images: number; bytes: number }>();
  for (const f of overview.features) {
    const { modelId, cutLayer } = parseModelKey(f.modelKey);
    const group = `${f.datasetId}|${modelId}`;
    const datasetName = isOnDeviceId(f.datasetId) ? `your classes (${f.datasetId})` : f.datasetId;
    const entry = entries.get(group) ?? { datasetName, modelName: modelName(modelId), images: 0, bytes: 0 };
    entries.set(group, entry);
    entry.bytes += f.bytes;
    if (cutLayer === models.find((m) => m.id === modelId)?.bottleneck) entry.images = Math.max(entry.images, f.images);
  }
  cachePanel.update({
    persisted: overview.persisted,
    entries: [...entries.values()],
    runs: overview.runs.map(({ run, ...c }) => {
      const totalEpochs = run.settings.headEpochs + run.settings.fineTuneEpochs;
      return {
        runId: c.runId,
        datasetName: c.datasetId,
        modelName: modelName(run.modelId),
        epoch: c.epoch,
        totalEpochs,
        bestValAccuracy: run.bestValAccuracy,
        finished: c.epoch >= totalEpochs,
        hasResults: c.hasClassifier,
        savedAt: c.savedAt,
      };
    }),
  });
}

let lastEpoch: EpochRecord | null = null;
let lastBatch: BatchProgress | null = null;
session.on('state', (state) => {
  controls.setState(state);
  const busy = state === 'extracting' || state === 'training';
  datasetPicker.setDisabled(busy);
  localClasses.setDisabled(busy);
  modelPicker.setDisabled(busy);
  settingsForm.setDisabled(busy);
  cachePanel.setDisabled(busy);
  liveController.setBusy(busy);
  if (state === 'done' || state === 'paused' || state === 'error') void refreshCache().catch(fail);
});
session.on('extract', (p) => {
  extraction.update({
    total: p.scheduler.total,
    done: p.scheduler.done,
    failed: p.scheduler.failed.map((f) => ({
      key: f.key,
      file: session.dataset?.images.find((i) => i.imageId === f.key)?.file,
      reason: f.reasons.join('; '),
    })),
    imagesPerSecond: p.scheduler.imagesPerSecond ?? 0,
    etaSeconds: p.scheduler.etaSeconds,
    forwardPasses: p.forwardPasses,
    requests: session.requests,
    workers: p.workers,
  });
});
/**
 * Views redrawn after a worker message run in tasks of their own (latest data wins), so no single main-thread
 * task does the charts, the tables and the message together: each stays well under 50 ms.
 */
function inOwnTask<T>(render: (value: T) => void): (value: T) => void {
  let latest: { value: T } | null = null;
  return (value) => {
    if (!latest) {
      setTimeout(() => {
        const next = latest!.value;
        latest = null;
        render(next);
      });
    }
    latest = { value };
  };
}
const drawCurves = inOwnTask((history: History) => curves.update(history));
const drawResults = inOwnTask((input: ResultsInput) => results.update(input));

session.on('train', (event) => {
  // The run's own epochs: storage may have cut it to the head only, whatever the form still says.
  const run = session.run!.settings;
  const totalEpochs = run.headEpochs + run.fineTuneEpochs;
  if (event.kind === 'epoch') {
    lastEpoch = event.record;
    drawCurves(event.history);
  } else if (event.kind === 'batch') {
    lastBatch = event.progress;
  } else {
    return;
  }
  // An epoch's figures show as soon as it ends, not with the next epoch's first batch (after the last, never).
  if (lastBatch) {
    const { stage, epoch, batch, batches } = lastBatch;
    training.update({ stage, epoch, totalEpochs, batch, batches, last: lastEpoch });
  }
});
session.on('results', ({ history, evaluation, inputSize }) => {
  drawCurves(history);
  drawResults({ evaluation, initial: history.initial });
  classify.clear();
  classifierReady(true);
  exportPanel.update({ classes: evaluation.classes, inputSize, preprocessing: session.model!.preprocessing });
  tflitePanel.setReady(true, session.model!.preprocessing);
});
session.on('trainer', (report) => runtime.update({ crossOriginIsolated, backend: report, workers: settingsForm.readSettings()?.workers }));
session.on('error', (message) => banner.showError(message));
session.on('info', (message) => banner.showInfo(message));

async function boot(): Promise<void> {
  controls.setState('idle');
  classifierReady(false);
  updateStartBlocked();
  void navigator.storage?.persist?.();
  await localClasses.load().catch(fail);
  const catalog = await session.catalog();
  models = catalog.models;
  datasets = catalog.datasets;
  datasetPicker.update(datasets, null);
  modelPicker.update(models, null);
  if (models.length === 0) banner.showInfo('This server has no base model yet: seed one with `npm run seed -- --model <dir>`.');
  if (models.length > 0) await chooseModel(models[0].id);
  await refreshCache();
  // Coming back: the last trained classifier classifies and exports at once, without training again.
  if (models.length > 0) {
    const restored = await session.restoreClassifier();
    if (restored) {
      classifierReady(true);
      exportPanel.update({ ...restored, preprocessing: models[0].preprocessing });
      tflitePanel.setReady(true, models[0].preprocessing);
    }
  }
}

window.graft = { session, live: liveController.live, ready: boot().catch(fail) };
