/**
 * The page's entry and composition root: creates the session, mounts the views of choosing (model, settings, the
 * run's controls) and joins the controllers of the other steps to it: datasets and samples, your own classes,
 * results and exports, Live, "coming back". Then it starts the page (boot), one step after another. Views render
 * and report intent, controllers join them to the session, and the session does the work (in workers).
 * `window.graft` exposes the session and Live to the browser tests and to curious visitors' consoles.
 */
import './styles.css';
import type { ModelRecord } from '../../shared/records';
import type { RunRecord } from '../../shared/run-record';
import { SLOW_OPEN_MS, getDB, onOpenWaiting, type OpenWait } from '../cache/connection';
import { DEFAULT_SETTINGS, defaultFineTuneAt } from '../trainer/settings';
import { connectComingBack } from './coming-back-controller';
import { connectDatasets } from './dataset-controller';
import type { Live } from '../camera/live';
import { isDroppedFolderId } from './dataset-source';
import { connectLive } from './live-controller';
import { connectLocalClasses } from './local-classes-controller';
import { connectPublish } from './publish-controller';
import { Publisher } from './publisher';
import { connectResults, type ReadyClassifier } from './results-controller';
import { PageClassifier } from './classifier';
import { Session } from './session';
import { storagePersistence } from './storage-persistence';
import { plainMessage } from './text/format';
import { mountAugmentationPreview } from './views/augmentation-preview';
import { mountBanner } from './views/banner';
import { mountControls } from './views/controls';
import { mountModelPicker } from './views/model-picker';
import { mountModelSummary } from './views/model-summary';
import { mountRuntimeStatus } from './views/runtime-status';
import { mountSettingsForm, type FormSettings } from './views/settings-form';

declare global {
  interface Window {
    graft: { session: Session; classifier: PageClassifier; live: Live; publisher: Publisher; ready: Promise<void> };
  }
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;

const session = new Session();
/** The classifier in use: classify, Live, the exports and Publish ask it; it follows the session's runs and choices. */
const classifier = new PageClassifier(session);
const persistence = storagePersistence();
const banner = mountBanner(byId('banner'));
const runtime = mountRuntimeStatus(byId('runtime-status'));
const defaults: FormSettings = {
  ...DEFAULT_SETTINGS,
  workers: Math.min(8, navigator.hardwareConcurrency || 2),
  backend: 'auto',
  inputSize: 224,
};
/** The server's base models, once the catalog is in. */
let models: ModelRecord[] = [];
/** The base whose layers the model summary shows: no other base's layers may stay under the chosen one's name. */
let summarised: ModelRecord | null = null;

const fail = (error: unknown) => banner.showError(plainMessage(error));

const datasets = connectDatasets({ picker: byId('dataset-picker'), samples: byId('sample-grid') }, session, {
  banner,
  choose,
  chosen: () => {
    updateStartBlocked();
    localClasses.refresh();
    publish.datasetChosen();
  },
});
const localClasses = connectLocalClasses(byId('local-dataset'), session, datasets.chooseData);
const modelPicker = mountModelPicker(byId('model-picker'), { onSelectModel: (id) => void chooseModel(id) });
const settingsForm = mountSettingsForm(byId('settings-form'), defaults, { onChange: () => void refreshSummary() });
const augmentationPreview = mountAugmentationPreview(byId('augmentation-preview'));
const modelSummary = mountModelSummary(byId('model-summary'));
const controls = mountControls(byId('controls'), {
  onStart: () =>
    void localClasses.rechoose().then(() => {
      const settings = settingsForm.getSettings();
      if (!settings) controls.setNote(`Start needs the settings fixed first. ${settingsForm.firstProblem()}`);
      if (!settings || !session.dataset) return;
      // A large run asks the browser to keep its storage (storage-persistence.ts) and says what it answered.
      void persistence.askForLargeRun().then((note) => note && controls.setNote(note, { keepAfterRun: true }));
      void session.start(settings);
    }),
  onPause: () => session.pause(),
  onResume: () => void session.resume(),
  onCancel: () => session.cancel(),
});
const live = connectLive(byId('live'), classifier);
const results = connectResults(
  {
    extractionProgress: byId('extraction-progress'),
    trainingProgress: byId('training-progress'),
    curves: byId('curves'),
    results: byId('results'),
    classify: byId('classify'),
    export: byId('export'),
    exportTflite: byId('export-tflite'),
  },
  session,
  classifier,
  { live, fixes: localClasses.fixes, thumbnail: datasets.thumbnail, fail },
);
const publisher = new Publisher(classifier);
const publish = connectPublish({ panel: byId('publish'), result: byId('publish-result'), list: byId('publications') }, session, classifier, publisher);
const comingBack = connectComingBack(byId('coming-back'), session, {
  persistence,
  models: () => models,
  showRun,
  restored: updateStartBlocked,
  showClassifier,
  fail,
});

/** A classifier came (restored, opened) or went ("Delete everything"): classify, Live, exports and Publish follow. */
function showClassifier(classifier: ReadyClassifier | null): void {
  results.showClassifier(classifier);
  publish.showClassifier(classifier);
}

function updateStartBlocked(): void {
  controls.setStartBlocked(!session.dataset ? 'Choose a dataset first.' : !session.model ? 'Choose a base model first.' : null);
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

function chooseModel(id: string): Promise<void> {
  const record = models.find((m) => m.id === id);
  if (!record) return Promise.resolve();
  return choose(async () => {
    modelPicker.update(models, id);
    if (record !== summarised) modelSummary.unavailable(record.name, 'Reading its layers…');
    try {
      const report = await session.chooseModel(record, settingsForm.readSettings()?.backend ?? 'auto');
      runtime.update({ crossOriginIsolated, backend: report, workers: settingsForm.readSettings()?.workers });
      // Fine-tune-from is checked against this base's layers, and follows it unless the visitor set it.
      const names = await session.baseLayerNames();
      settingsForm.setLayerNames(names, defaultFineTuneAt(names.length));
    } catch (error) {
      if (session.model === record) modelSummary.unavailable(record.name, `Its layers could not be read: ${plainMessage(error)}`);
      summarised = null;
      throw error;
    }
  });
}

/** The base's summary for the form's settings, and before Start the storage the run needs (and how it is cut down). */
async function refreshSummary(): Promise<void> {
  const model = session.model;
  if (!model) return;
  const settings = settingsForm.readSettings();
  if (!settings) {
    if (model !== summarised) modelSummary.unavailable(model.name, 'Its layers show once the settings marked in step 2 are fixed.');
    return;
  }
  try {
    const summary = await session.describe(settings);
    // Another base chosen meanwhile: its own refresh shows it.
    if (session.model !== model) return;
    modelSummary.update(summary, { name: model.name, fineTuneEpochs: settings.fineTuneEpochs });
    summarised = model;
    const plan = session.dataset ? await session.storagePlan(settings) : null;
    if (plan) persistence.planned(plan);
    controls.setNote(plan?.message ?? null);
  } catch (error) {
    if (session.model === model) {
      modelSummary.unavailable(model.name, `Its layers could not be shown: ${plainMessage(error)}`);
      summarised = null;
    }
    fail(error);
  }
}

async function refreshPreview(): Promise<void> {
  const settings = settingsForm.readSettings();
  if (!settings || !session.model || !session.dataset) return;
  const [original, ...views] = await session.augmentationPreview(settings);
  augmentationPreview.update({ original, views, label: session.dataset.images[0].class });
}

/** Shows a saved run's settings, model and dataset (a dropped folder must be dropped again: the session says so). */
async function showRun(run: RunRecord): Promise<void> {
  settingsForm.setValues(run.settings);
  await chooseModel(run.modelId);
  if (!isDroppedFolderId(run.datasetId) && session.dataset?.id !== run.datasetId) {
    await datasets.chooseData(() => session.chooseDataset(run.datasetId), run.datasetId);
  }
}

session.on('state', (state) => {
  controls.setState(state);
  const busy = state === 'extracting' || state === 'training';
  datasets.setDisabled(busy);
  localClasses.setDisabled(busy);
  modelPicker.setDisabled(busy);
  settingsForm.setDisabled(busy);
  comingBack.setDisabled(busy);
  live.setBusy(busy);
  publish.setBusy(busy);
  if (state === 'done' || state === 'paused' || state === 'error') void comingBack.refresh().catch(fail);
});
session.on('trainer', (report) => runtime.update({ crossOriginIsolated, backend: report, workers: settingsForm.readSettings()?.workers }));
classifier.on('status', (status) => runtime.setClassifier(status.engine === 'none' ? null : { ok: status.engine === 'litert', text: status.text }));
session.on('error', (message) => banner.showError(message));
session.on('info', (message) => banner.showInfo(message));

/** Why the page waits for its storage to open (connection.ts), said until the open settles. */
const OPEN_WAIT_TEXT: Record<OpenWait, string> = {
  blocked: 'Graft is open in another tab with an older version: close it. This page goes on once it is closed.',
  slow: `The browser has not opened Graft's storage (IndexedDB) within ${SLOW_OPEN_MS / 1000} s: another tab may be upgrading it. This page goes on once it opens; if it stays, close other Graft tabs or restart the browser.`,
};
onOpenWaiting((why) => {
  banner.showError(OPEN_WAIT_TEXT[why]);
  void getDB().then(banner.clear, () => undefined);
});

/**
 * The page's start, one step after another (each awaited, each its own function): the visitor's own classes (a
 * failure is shown and the rest goes on), the server's catalog, the first base model, what this browser holds,
 * and the last trained classifier, which classifies and exports at once without training again. It never asks
 * the browser to keep its storage: a large run's Start or the visitor does (storage-persistence.ts). No step waits
 * silently: a database open blocked by an older tab, or held without a word, says so (above), and a request to the server that stalls is
 * tried again and then named in the banner (storage-client.ts: STALL_MS, RETRY_DELAYS_MS).
 */
async function boot(): Promise<void> {
  controls.setState('idle');
  showClassifier(null);
  updateStartBlocked();
  await localClasses.load().catch(fail);
  await loadCatalog();
  if (models.length > 0) await chooseModel(models[0].id);
  await comingBack.refresh();
  await restoreClassifier();
}

async function loadCatalog(): Promise<void> {
  const catalog = await session.catalog().catch((error: Error) => {
    throw new Error(`The server's list of models and datasets could not be loaded: ${error.message}. Reload the page to try again.`, { cause: error });
  });
  models = catalog.models;
  datasets.showCatalog(catalog.datasets);
  modelPicker.update(models, null);
  if (models.length === 0) {
    banner.showInfo(`This server has no base model yet: \`npm run seed\` stores the default one (for a deployed Graft: \`npm run seed -- --remote ${location.origin}\`).`);
  }
}

async function restoreClassifier(): Promise<void> {
  if (models.length === 0) return;
  const newest = await classifier.newestSaved();
  if (!newest) return;
  // A classifier answers only on the base it was trained on: that base is chosen first.
  const base = newest.baseId;
  if (base && base !== session.model?.id) await chooseModel(base);
  // Its base is no longer on the server (or did not start): it is kept, not restored onto another base.
  if (base && base !== session.model?.id) return;
  const restored = await classifier.restore(newest.runId);
  if (restored && session.model) showClassifier({ classes: restored.classes, inputSize: restored.inputSize, preprocessing: session.model.preprocessing });
}

// This browser's publications are listed beside the start: they need nothing of the server.
void publish.refresh().catch(fail);
window.graft = { session, classifier, live: live.live, publisher, ready: boot().catch(fail) };
