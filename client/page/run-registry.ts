/**
 * Which dataset, model and settings each training run used, kept in localStorage (tiny, synchronous), so a
 * later visit can offer to resume a run whose checkpoints and features sit in IndexedDB.
 */
import type { Augmentation } from '../../shared/augmentation';
import type { TensorCodec } from '../../shared/farm';
import type { PageSettings } from './session';

export interface RunRecord {
  runId: string;
  datasetId: string;
  modelId: string;
  settings: PageSettings;
  pooledKey: string;
  cutKey: string | null;
  /** How augmented views are made; runs saved before it was recorded used DEFAULT_AUGMENTATION. */
  augmentation?: Augmentation;
  /** Precision of its cached cut activations when storage made it other than the session's float16. */
  cutCodec?: TensorCodec;
  createdAt: number;
  /** Best validation accuracy reached so far, kept up to date after every epoch. */
  bestValAccuracy?: number;
}

const PREFIX = 'graft.run.';

export function rememberRun(run: RunRecord): void {
  localStorage.setItem(PREFIX + run.runId, JSON.stringify(run));
}

export function loadRun(runId: string): RunRecord | null {
  const text = localStorage.getItem(PREFIX + runId);
  return text ? (JSON.parse(text) as RunRecord) : null;
}

/** Forgets every run this browser knows of. */
export function forgetAllRuns(): void {
  const keys = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i));
  for (const key of keys) if (key?.startsWith(PREFIX)) localStorage.removeItem(key);
}
