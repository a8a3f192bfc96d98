/**
 * Extraction: fills the feature cache for a plan through the farm. Only the views the cache lacks go through the
 * base model; images that cannot be read are reported and left out of the plan. When the cache fills up, the run
 * drops its cut activations and is fitted again to the space that freed (`refit`); with only pooled features left
 * to store, it trains on the images whose features are cached: it never ends with nothing to train.
 */
import type { ModelArtifactsData } from '../../shared/farm';
import { isStorageFull } from '../cache/errors';
import { missingKeys } from '../cache/feature-store';
import { Farm, type FarmImage, type FarmProgress } from '../farm/farm';
import { cachedImagesOnly, viewKeys, viewsOf, withoutImages, type RunPlan } from './run-planner';
import { dropCutActivations } from './run-storage';
import type { CutStorage } from './storage-plan';

export interface ExtractionEvents {
  progress(progress: FarmProgress): void;
  info(message: string): void;
}

/** The plan fitted to storage again after the cache filled: the bytes that freed, and the cut storages that failed. */
export type Refit = (plan: RunPlan, available: number | null, failed: CutStorage[]) => Promise<RunPlan>;

export interface Extracted {
  /** The plan that trains: without the images that could not be read, cut down if the cache filled. */
  plan: RunPlan;
  /** The farm's last progress, or null when every feature was cached already. */
  progress: FarmProgress | null;
}

export class Extraction {
  /** The farm of the extraction in progress, or of the last one until the run moves on (tests read its workers). */
  farm: Farm | null = null;
  /** The last progress a farm reported. */
  last: FarmProgress | null = null;

  constructor(private readonly events: ExtractionEvents) {}

  /** Extracts what `plan` lacks, cutting the run down (`refit`) whenever the cache fills. */
  async run(plan: RunPlan, artifacts: ModelArtifactsData, signal: AbortSignal, refit: Refit): Promise<Extracted> {
    for (;;) {
      try {
        return await this.#extractMissing(plan, artifacts, signal);
      } catch (error) {
        if (!isStorageFull(error) || signal.aborted) throw error;
        if (plan.run.cutKey !== null) {
          // The cut activations free the most: drop them and plan again with the space that freed.
          const freed = await dropCutActivations(plan);
          plan = await refit(plan, freed, plan.run.cutCodec === 'uint8' ? ['float16', 'uint8'] : ['float16']);
          continue;
        }
        const cached = await cachedImagesOnly(plan);
        this.events.info(`Browser storage is full: training on the ${cached.after} of ${cached.before} images whose features fit.`);
        return { plan: cached.plan, progress: this.last };
      }
    }
  }

  /** Stop handing out images (the batches in flight finish). */
  pause(): void {
    this.farm?.pause();
  }

  resume(): void {
    this.farm?.resume();
  }

  /** The run moved on to training or ended: no farm is left to pause or resume. */
  release(): void {
    this.farm = null;
  }

  async #extractMissing(plan: RunPlan, artifacts: ModelArtifactsData, signal: AbortSignal): Promise<Extracted> {
    const { run, dataset, record } = plan;
    const { settings, pooledKey, cutKey } = run;
    this.farm = null;
    const views = viewsOf(plan);
    const keysOf = (imageId: string, v: number) => [pooledKey, ...(cutKey ? [cutKey] : [])].flatMap((key) => viewKeys(plan, key, imageId, [v]));
    // Every image's keys in one cache transaction, not one per image.
    const missing = new Set(await missingKeys(dataset.images.flatMap(({ imageId }) => views(imageId).flatMap((v) => keysOf(imageId, v)))));
    const farmImages: FarmImage[] = [];
    for (const image of dataset.images) {
      const needed = views(image.imageId).filter((v) => keysOf(image.imageId, v).some((key) => missing.has(key)));
      if (needed.length > 0) farmImages.push({ key: image.imageId, imageId: image.imageId, views: needed, bytes: image.bytes });
    }
    if (farmImages.length === 0) {
      this.events.info('All features are already cached: no image goes through the base model again.');
      return { plan, progress: null };
    }
    this.farm = new Farm({ workers: settings.workers, backend: settings.backend, maxChunkSize: settings.maxChunkSize }, (progress) => {
      this.last = progress;
      this.events.progress(progress);
    });
    const outcome = await this.farm.run(
      {
        datasetId: dataset.id,
        record,
        artifacts,
        inputSize: settings.inputSize,
        fineTuneAt: cutKey ? settings.fineTuneAt : null,
        cutCodec: run.cutCodec,
        augmentation: run.augmentation,
        images: farmImages,
      },
      signal,
    );
    const failed = new Set(outcome.failed.map((f) => f.key));
    if (failed.size > 0) {
      const total = dataset.images.length;
      this.events.info(`Training on ${total - failed.size} of ${total} images: ${failed.size} could not be read (listed with the reason under Feature extraction).`);
    }
    return { plan: withoutImages(plan, failed), progress: this.last };
  }
}
