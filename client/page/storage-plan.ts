/**
 * How much browser storage a run needs and what to do when there is less: the page estimates a run's bytes
 * before Start (pooled features, cut activations at float16 or uint8, checkpoint and classifier) and compares
 * them with the free space navigator.storage.estimate() reports. When space is short the run degrades instead
 * of stopping: cut activations as uint8, else no fine-tuning (head only). Pure arithmetic: no DOM, no IndexedDB.
 */
import { formatBytes } from './text/format';

/** What a run stores per sample and once. */
export interface RunFootprint {
  /** Pooled feature samples still to store: each training image once per view, the others once. */
  samples: number;
  /** Cut activation samples still to store (the same samples, minus those already cached). */
  cutSamples: number;
  /** Floats of one pooled feature vector (stored float32). */
  pooledSize: number;
  /** Values crossing the fine-tune cut per sample (0 without fine-tuning). */
  cutSize: number;
  /** Bytes of the base model's weights (the saved classifier holds them). */
  modelBytes: number;
  /** Parameters that train in stage 1 and, with fine-tuning, in stage 2 (a checkpoint holds them, the best
   * epoch's copy and two optimizer slots each). */
  headParams: number;
  fineTuneParams: number;
}

export type CutStorage = 'float16' | 'uint8' | 'none';

export interface StoragePlan {
  /** How cut activations are stored; 'none' trains the head only. */
  cut: CutStorage;
  /** Bytes the run needs with that choice. */
  bytes: number;
  /** Free bytes the decision was made with, or null where the browser does not say. */
  available: number | null;
  /** True when the run was cut down to fit (uint8, or the head only although fine-tuning was asked for). */
  degraded: boolean;
  /** One sentence for the visitor: what the run needs and, when it is cut down, what was chosen and why. */
  message: string;
}

/** Bytes of a stored record besides its tensors (key, ids, shapes) and IndexedDB's own share. */
const RECORD_OVERHEAD = 512;
/** Estimates are this much above the sum of the parts: IndexedDB keeps more than the values. */
const MARGIN = 1.1;
/**
 * After the cache ran short unannounced (`failed` not empty), a plan uses at most this share of the space the browser
 * says freed: its count after the deletes proved generous once (a run planned 34 MB into 35 MB "free", and a
 * checkpoint then did not fit).
 */
const SHARE_AFTER_SHORTAGE = 0.8;

const CUT_BYTES_PER_VALUE: Record<Exclude<CutStorage, 'none'>, number> = { float16: 2, uint8: 1 };

/** Bytes the run needs when its cut activations are stored as `cut`. */
export function bytesNeeded(footprint: RunFootprint, cut: CutStorage): number {
  const { samples, cutSamples, pooledSize, cutSize, modelBytes } = footprint;
  const trainableParams = cut === 'none' ? footprint.headParams : footprint.fineTuneParams;
  const pooled = samples * (pooledSize * 4 + RECORD_OVERHEAD);
  const cutBytes = cut === 'none' ? 0 : cutSamples * (cutSize * CUT_BYTES_PER_VALUE[cut] + RECORD_OVERHEAD);
  // A checkpoint holds four float32 arrays per trainable parameter: the weights, the best epoch's weights and the
  // optimizer's two slots. Saving one replaces the previous in one put: both are stored while it commits.
  const checkpoints = 2 * trainableParams * 4 * 4;
  return Math.ceil((pooled + cutBytes + checkpoints + modelBytes) * MARGIN);
}

/**
 * The best run that fits in `available` bytes: float16 cut activations, else uint8 (half their size, error
 * at most 1.2e-2), else the head only (the trainer cannot fine-tune without cached cut activations).
 * Without fine-tuning (`footprint.cutSize` 0) there is nothing to choose. `failed` lists what already ran
 * out of space: it is not chosen again, and what is chosen keeps a reserve (SHARE_AFTER_SHORTAGE).
 */
export function chooseStorage(footprint: RunFootprint, available: number | null, failed: CutStorage[] = []): StoragePlan {
  const options = (['float16', 'uint8'] as const).filter((cut) => footprint.cutSize > 0 && !failed.includes(cut));
  const free = available === null ? 'free space unknown' : `${formatBytes(available)} free`;
  const usable = available === null ? null : failed.length > 0 ? available * SHARE_AFTER_SHORTAGE : available;
  const fits = (cut: CutStorage) => usable === null || bytesNeeded(footprint, cut) <= usable;
  const chosen: CutStorage = options.find(fits) ?? 'none';
  const bytes = bytesNeeded(footprint, chosen);
  const plan = { cut: chosen, bytes, available, degraded: footprint.cutSize > 0 && chosen !== 'float16' };
  const needs = `This run needs about ${formatBytes(bytes)} of browser storage (${free})`;
  if (!plan.degraded) {
    return { ...plan, message: fits(chosen) ? `${needs}.` : `${needs}: it may run short, and then trains on the images whose features fit.` };
  }
  const full = formatBytes(bytesNeeded(footprint, 'float16'));
  if (chosen === 'uint8') {
    return { ...plan, message: `${needs}: cut activations are stored as uint8, half the size of float16, because float16 would need ${full}.` };
  }
  const smallest = formatBytes(bytesNeeded(footprint, 'uint8'));
  const shortNote = fits('none') ? '' : ' Even that may run short: then it trains on the images whose features fit.';
  return {
    ...plan,
    message: `${needs}: only the head trains, because fine-tuning needs its cut activations cached, ${smallest} even as uint8.${shortNote}`,
  };
}
