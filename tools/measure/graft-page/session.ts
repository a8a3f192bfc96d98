/**
 * The measure session: a Session of the page's own class on a dataset and base model of the server, whose events
 * come back as log lines. The runs of this folder (training.ts, extraction.ts, ...) drive it.
 */
import type { Page } from 'playwright-core';
import type { BackendChoice, BackendReport } from '../../../shared/farm';
import type { ModelRecord } from '../../../shared/records';
import type { PageClassifier } from '../../../client/page/classifier';
import type { Session } from '../../../client/page/session';
import type { MeasureWindow } from './measure-window';

export interface OpenedSession {
  trainer: BackendReport;
  record: ModelRecord;
  /** The base's layers up to its bottleneck: the page's default fine-tune-from is a share of them. */
  baseLayers: number;
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
      baseLayers: (await session.baseLayerNames()).length,
      classes: dataset.classes,
      images: dataset.images.length,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated,
    };
  }, args);
}
