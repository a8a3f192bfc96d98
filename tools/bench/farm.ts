/**
 * The bench's farm group, in the page: the extraction pipeline with one worker and with N (empty feature cache
 * each time), and forward passes alone on N extraction workers (the pipeline's ceiling: layers model, compiled
 * base, LiteRT.js).
 */
import type { Page } from 'playwright-core';
import { MAX_CHUNK_SIZE } from '../../shared/farm';
import type { PageSettings } from '../../client/page/run-planner';
import { LITERT_SETTINGS } from '../../client/farm/farm';
import { extractionRun, type ExtractionRun } from '../measure/graft-page/extraction';
import { extractWorkerPath, predictRun, type PredictRun } from '../measure/graft-page/predict';
import { logLine } from '../measure/project';

export interface FarmRuns {
  one: ExtractionRun;
  many: ExtractionRun;
  predict: PredictRun;
}

/** `settings.workers` is N; `predictImages` forward passes per worker. */
export async function measureFarm(page: Page, settings: PageSettings, predictImages: number): Promise<FarmRuns> {
  const log = logLine;
  const { workers } = settings;
  log('pipeline, 1 worker');
  const one = await extractionRun(page, { ...settings, workers: 1 });
  log(`pipeline, ${workers} workers`);
  const many = await extractionRun(page, settings);
  log(`forward passes alone, ${workers} workers x ${predictImages} images`);
  const predict = await predictRun(page, {
    liteRt: LITERT_SETTINGS,
    workerPath: await extractWorkerPath(),
    workers,
    images: predictImages,
    batch: MAX_CHUNK_SIZE,
    settings,
  });
  return { one, many, predict };
}
