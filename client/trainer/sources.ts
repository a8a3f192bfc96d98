/**
 * How training data reaches the trainer: a SampleSource hands out mini-batches by sample index, so the head's
 * pooled features can sit in memory while stage 2's cut activations (~44K floats per image and view at 224)
 * stream from IndexedDB one batch at a time. Augmented views are extra training samples; validation and test
 * use view 0 only.
 */
import type { SplitAssignment, ViewsPerEpoch } from '../../shared/training';

export interface SampleBatch {
  /** One array per model input: the samples' values concatenated in the order of the requested indices. */
  inputs: Float32Array[];
  /** Class index of each sample. */
  labels: Int32Array;
}

export interface SampleSource {
  /** The image each sample comes from (a training image appears once per view). */
  readonly imageIds: readonly string[];
  /** Class index of each sample, in imageIds order. */
  readonly labels: Int32Array;
  batch(indices: readonly number[]): Promise<SampleBatch>;
}

/** One sample: an image and which of its views (0 = the image itself, 1..K = augmented). */
export interface SampleRef {
  imageId: string;
  view: number;
}

/** The samples of each split: every training image once per view 0..augmentViews, the others at view 0. */
export function splitSamples(split: SplitAssignment, augmentViews: number): Record<keyof SplitAssignment, SampleRef[]> {
  const views = Array.from({ length: augmentViews + 1 }, (_, view) => view);
  return {
    train: views.flatMap((view) => split.train.map((imageId) => ({ imageId, view }))),
    validation: split.validation.map((imageId) => ({ imageId, view: 0 })),
    test: split.test.map((imageId) => ({ imageId, view: 0 })),
  };
}

/**
 * The training samples one epoch uses, as indices into splitSamples().train (view-major: view v of image i is
 * v * images + i; train() has checked that samples = images x views): all of them, or with 'one' a single view of
 * each image, image i at view (i + epoch) mod views.
 */
export function epochSampleIndices(samples: number, views: number, viewsPerEpoch: ViewsPerEpoch, epoch: number): number[] {
  if (viewsPerEpoch === 'all' || views === 1) return Array.from({ length: samples }, (_, i) => i);
  const images = samples / views;
  return Array.from({ length: images }, (_, i) => ((i + epoch) % views) * images + i);
}

export interface MemorySample {
  imageId: string;
  label: number;
  /** One array per model input. */
  inputs: Float32Array[];
}

/** A source over samples already in memory (pooled features, or cut activations in tests). */
export function memorySource(samples: readonly MemorySample[]): SampleSource {
  const sizes = samples[0]?.inputs.map((a) => a.length) ?? [];
  samples.forEach((s, i) => {
    if (s.inputs.length !== sizes.length || s.inputs.some((a, k) => a.length !== sizes[k])) {
      throw new Error(`sample ${i} (${s.imageId}) has inputs of other sizes than sample 0`);
    }
  });
  return {
    imageIds: samples.map((s) => s.imageId),
    labels: Int32Array.from(samples, (s) => s.label),
    async batch(indices) {
      const inputs = sizes.map((size) => new Float32Array(size * indices.length));
      const labels = new Int32Array(indices.length);
      indices.forEach((index, row) => {
        const sample = samples[index];
        if (sample === undefined) throw new RangeError(`no sample ${index} (source has ${samples.length})`);
        sample.inputs.forEach((values, k) => inputs[k].set(values, row * sizes[k]));
        labels[row] = sample.label;
      });
      return { inputs, labels };
    },
  };
}
