/** A training run of the measure session in the page: extraction of what the cache lacks, then training. */
import type { Page } from 'playwright-core';
import type { BackendReport } from '../../../shared/farm';
import type { Evaluation, History } from '../../../shared/training';
import type { PageSettings } from '../../../client/page/run-planner';
import type { MeasureWindow } from './measure-window';

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
