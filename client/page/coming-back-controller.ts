/**
 * "Coming back", wired: the panel shows what this browser holds (coming-back.ts); a run listed there resumes, trains
 * again or opens its results after its dataset, base model and settings are shown and chosen again; "Delete
 * everything" clears the cache, the runs and the classifier in use; the visitor may ask the browser to keep the
 * storage (storage-persistence.ts), and a refusal is said there.
 */
import type { ModelRecord } from '../../shared/records';
import type { RunRecord } from '../../shared/run-record';
import type { ReadyClassifier } from './results-controller';
import type { Session } from './session';
import { keepSentence, type StoragePersistence } from './storage-persistence';
import { mountCachePanel } from './views/cache-panel';

export interface ComingBackController {
  /** Reads what this browser holds again and shows it. */
  refresh(): Promise<void>;
  /** No resume or clear while a run extracts or trains. */
  setDisabled(disabled: boolean): void;
}

export interface ComingBackDependencies {
  persistence: StoragePersistence;
  /** The server's base models (names, and the model of a run). */
  models(): readonly ModelRecord[];
  /** Shows a saved run's dataset, model and settings in steps 1 and 2. */
  showRun(run: RunRecord): Promise<void>;
  /** The session has the run's dataset and model again: Start may be possible now. */
  restored(): void;
  showClassifier(classifier: ReadyClassifier | null): void;
  fail(error: unknown): void;
}

export function connectComingBack(el: HTMLElement, session: Session, deps: ComingBackDependencies): ComingBackController {
  const panel = mountCachePanel(el, {
    onResume: (runId) => void restore(runId, true).catch(deps.fail),
    onTrainAgain: (runId) => void restore(runId, false).catch(deps.fail),
    onOpenResults: (runId) => void openResults(runId).catch(deps.fail),
    onClear: () =>
      void session
        .clearCache()
        .then(() => deps.showClassifier(null))
        .then(refresh)
        .catch(deps.fail),
    onKeep: () => void deps.persistence.ask().then(refresh).catch(deps.fail),
  });

  async function refresh(): Promise<void> {
    const keepRefusal = deps.persistence.answer === false ? keepSentence(false) : null;
    panel.update({ ...(await session.cacheOverview(deps.models())), keepRefusal });
  }

  /** The run's record, shown in steps 1 and 2 (a run this browser no longer knows of: nothing shown). */
  async function showRun(runId: string): Promise<void> {
    const run = await session.loadRun(runId);
    if (run) await deps.showRun(run);
  }

  /** Shows the run, chooses its dataset and model again, then continues it (resume) or starts it over. */
  async function restore(runId: string, resume: boolean): Promise<void> {
    await showRun(runId);
    const run = await session.restoreRun(runId);
    deps.restored();
    await session.start(run.settings, resume ? run : null);
  }

  /** A finished run's curves and results, and its classifier for classify and export. */
  async function openResults(runId: string): Promise<void> {
    await showRun(runId);
    const saved = await session.openResults(runId);
    deps.showClassifier({ classes: saved.classes, inputSize: saved.inputSize, preprocessing: session.model!.preprocessing });
  }

  return { refresh, setDisabled: (disabled) => panel.setDisabled(disabled) };
}
