/**
 * Steps 4 to 6, wired: the extraction panel follows the farm's progress, the training box and the curves the
 * session's training events, the results and
 * the gallery its results, and classify, Live and both exports follow the classifier: on once one exists (a run
 * finished, a saved one restored or opened), off when it is gone. The curves, the results and their gallery are
 * drawn one per frame (frame-pacer.ts, the latest data wins), so no frame lays out the charts, the tables and the
 * panels a worker's message changed together: each stays well under 50 ms.
 */
import type { ModelRecord } from '../../shared/records';
import type { BatchProgress, WeightQuantization } from '../../shared/trainer-messages';
import type { EpochRecord, Evaluation, History } from '../../shared/training';
import type { LiveController } from './live-controller';
import { framePacer } from './frame-pacer';
import { saveFile } from './save-file';
import type { PageClassifier } from './classifier';
import type { Session } from './session';
import { plainMessage } from './text/format';
import { mountClassify } from './views/classify';
import { mountCurves } from './views/curves';
import { mountExport } from './views/export-panel';
import { mountExtractionProgress } from './views/extraction-progress';
import type { PredictionFixes, ThumbnailSource } from './views/prediction-gallery';
import { mountResults, type ResultsInput } from './views/results';
import { mountTflite } from './views/tflite-panel';
import { mountTrainingProgress } from './views/training-progress';
import type { TfliteKind } from '../../shared/trainer-messages';

/** A classifier ready for classify and export. */
export interface ReadyClassifier {
  classes: string[];
  inputSize: number;
  preprocessing: ModelRecord['preprocessing'];
}

export interface ResultsController {
  /** A classifier came (a run finished, a saved one was restored or opened), or went (null: "Delete everything"). */
  showClassifier(classifier: ReadyClassifier | null): void;
}

export interface ResultsElements {
  extractionProgress: HTMLElement;
  trainingProgress: HTMLElement;
  curves: HTMLElement;
  results: HTMLElement;
  classify: HTMLElement;
  export: HTMLElement;
  exportTflite: HTMLElement;
}

export interface ResultsDependencies {
  live: LiveController;
  thumbnail: ThumbnailSource;
  fixes: PredictionFixes;
  fail(error: unknown): void;
}

export function connectResults(el: ResultsElements, session: Session, classifier: PageClassifier, deps: ResultsDependencies): ResultsController {
  const extraction = mountExtractionProgress(el.extractionProgress);
  const training = mountTrainingProgress(el.trainingProgress);
  const curves = mountCurves(el.curves);
  const results = mountResults(el.results, { fixes: deps.fixes, thumbnail: deps.thumbnail });
  const classify = mountClassify(el.classify, {
    onClassify: (file) =>
      void classifier
        .classify(file)
        .then((top) => classify.update(top.map((c) => ({ label: c.className, probability: c.probability }))))
        .catch((e) => classify.showError(plainMessage(e))),
  });
  const exportPanel = mountExport(el.export, { onExport: (kind) => void download(kind) });
  const tflitePanel = mountTflite(el.exportTflite, { onBuild: (kind) => void buildTflite(kind) });
  const pacer = framePacer();
  const drawCurves = pacer.view((history: History) => curves.update(history));
  const drawResults = pacer.view((input: ResultsInput) => results.update(input));
  const drawGallery = pacer.view((evaluation: Evaluation) => results.updateGallery(evaluation));

  async function download(kind: WeightQuantization): Promise<void> {
    exportPanel.setBusy(kind);
    try {
      const { modelJson, weightsBin } = await classifier.exportModel(kind);
      saveFile(new Blob([modelJson], { type: 'application/json' }), 'model.json');
      saveFile(new Blob([weightsBin], { type: 'application/octet-stream' }), 'weights.bin');
    } catch (error) {
      deps.fail(error);
    } finally {
      exportPanel.setBusy(null);
    }
  }

  async function buildTflite(kind: TfliteKind): Promise<void> {
    tflitePanel.setBusy(kind);
    try {
      tflitePanel.show(await classifier.exportTflite(kind));
    } catch (error) {
      deps.fail(error);
    } finally {
      tflitePanel.setBusy(null);
    }
  }

  /** The classifier shown, and why it is set aside (another base model is chosen) or null. */
  let shown: ReadyClassifier | null = null;
  let aside: string | null = null;

  function showClassifier(next: ReadyClassifier | null): void {
    shown = next;
    const ready = aside ? null : next;
    const reason = aside ?? 'Train a classifier first.';
    classify.setEnabled(ready !== null, reason);
    deps.live.setClassifier(ready !== null, reason);
    if (!ready) classify.clear();
    exportPanel.update(ready && { classes: ready.classes, inputSize: ready.inputSize, preprocessing: ready.preprocessing });
    tflitePanel.setReady(ready !== null, ready?.preprocessing);
  }

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

  let lastEpoch: EpochRecord | null = null;
  let lastBatch: BatchProgress | null = null;
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
      training.update({ stage, epoch, totalEpochs, fineTuneEpochs: run.fineTuneEpochs, batch, batches, last: lastEpoch });
    }
  });
  classifier.on('aside', (why) => {
    aside = why;
    showClassifier(shown);
  });
  session.on('results', ({ history, evaluation, inputSize }) => {
    drawCurves(history);
    drawResults({ evaluation, initial: history.initial });
    drawGallery(evaluation);
    classify.clear();
    showClassifier({ classes: evaluation.classes, inputSize, preprocessing: session.model!.preprocessing });
  });

  return { showClassifier };
}
